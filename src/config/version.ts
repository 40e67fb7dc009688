/** The version `build.ts` injects; `0.0.0-dev` when run from source. */
export const VERSION: string = typeof AIRLOCK_VERSION === "string" ? AIRLOCK_VERSION : "0.0.0-dev";
