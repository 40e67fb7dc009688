/**
 * `npm start` at this stage: the binary is built; show what it does with a few real checks.
 * (The workstation issue replaces this with `airlock dev up`: gateway + daemon + shims + UI.)
 */
import { resolve } from "node:path";

const bin = resolve(import.meta.dir, "..", "dist", "airlock");
const examples: { title: string; args: string[] }[] = [
  { title: "An agent tries to apply Terraform behind -chdir", args: ["check", "--", "terraform", "-chdir=infra", "apply", "-auto-approve"] },
  { title: "The same hidden inside a shell string, as a hook sees it", args: ["check", "--command", "cd infra && bash -c 'sudo terraform destroy'"] },
  { title: "Plans stay allowed; data that only mentions a command is data", args: ["check", "--command", "terraform plan -out=tfplan && git commit -m 'terraform apply later'"] },
  { title: "A Helm upgrade needs a human", args: ["check", "--", "helm", "--kube-context", "prod", "upgrade", "web", "./chart"] },
  { title: "A command name nobody can know statically", args: ["check", "--command", "$TF apply"] },
];

for (const { title, args } of examples) {
  console.log(`\n# ${title}\n$ airlock ${args.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", `'\\''`)}'`)).join(" ")}`);
  const proc = Bun.spawnSync([bin, ...args], { stdout: "inherit", stderr: "inherit", env: { ...process.env, NO_COLOR: process.env.NO_COLOR ?? "" } });
  console.log(`(exit ${proc.exitCode})`);
}
console.log(`
The binary is ${bin}. Next:
  ./dist/airlock --help                  every command
  ./dist/airlock policy test             run the policies' test cases
  ./dist/airlock check --json -- kubectl --context prod delete ns x
`);
