/**
 * The executable names `airlock` answers to as a protected-command shim (DESIGN 1). argv0 is
 * caller-controlled, so only these names dispatch to the shim; anything else is the CLI.
 * A test keeps this list in step with the tool profiles and the seed policies.
 */
export const PROTECTED_TOOLS: ReadonlySet<string> = new Set([
  "terraform",
  "tofu",
  "terragrunt",
  "kubectl",
  "oc",
  "helm",
  "aws",
  "gcloud",
  "az",
  "pulumi",
  "git",
  "docker",
]);
