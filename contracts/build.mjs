// Compiles src/SunproofAnchor.sol with the pinned solc-js through the standard
// JSON interface and writes <out>/SunproofAnchor.abi.json and <out>/SunproofAnchor.bin.
//
//   node build.mjs [--out DIR]     (DIR defaults to ./build next to this file)
//
// Settings that change the bytecode live here and only here: compiler version
// (package-lock.json), optimizer, runs and evmVersion. See README.md for why
// evmVersion is "paris".
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import solc from "solc";

const SOLC_VERSION = "0.8.37";
const EVM_VERSION = "paris";
const OPTIMIZER_RUNS = 200;
const CONTRACT = "SunproofAnchor";

const here = dirname(fileURLToPath(import.meta.url));

function parseArgs(argv) {
  let out = join(here, "build");
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--out" && i + 1 < argv.length) {
      out = resolve(argv[++i]);
    } else {
      throw new Error(`usage: node build.mjs [--out DIR] (unexpected ${argv[i]})`);
    }
  }
  return { out };
}

// Opcodes introduced after Paris. A chain configured for Paris (or an older EVM
// such as GoQuorum's or FISCO BCOS's) treats them as invalid instructions.
const POST_PARIS_OPCODES = new Map([
  [0x1e, "CLZ (Osaka)"],
  [0x49, "BLOBHASH (Cancun)"],
  [0x4a, "BLOBBASEFEE (Cancun)"],
  [0x5c, "TLOAD (Cancun)"],
  [0x5d, "TSTORE (Cancun)"],
  [0x5e, "MCOPY (Cancun)"],
  [0x5f, "PUSH0 (Shanghai)"],
]);

// checkOpcodes walks code linearly (skipping PUSH data) and fails on any
// post-Paris opcode.
function checkOpcodes(hex, what) {
  const code = Buffer.from(hex, "hex");
  for (let pc = 0; pc < code.length; pc++) {
    const op = code[pc];
    const name = POST_PARIS_OPCODES.get(op);
    if (name) {
      throw new Error(`${what}: ${name} at offset ${pc}; not valid for evmVersion ${EVM_VERSION}`);
    }
    if (op >= 0x60 && op <= 0x7f) pc += op - 0x5f; // PUSH1..PUSH32 data
  }
}

// stripMetadata removes the CBOR metadata solc appends to runtime code; its
// length is the last two bytes.
function stripMetadata(hex) {
  const n = parseInt(hex.slice(-4), 16);
  return hex.slice(0, hex.length - 4 - 2 * n);
}

function main() {
  const { out } = parseArgs(process.argv.slice(2));

  const version = solc.version();
  if (!version.startsWith(`${SOLC_VERSION}+`)) {
    throw new Error(`solc ${version} loaded, want ${SOLC_VERSION}: run "npm ci" in contracts/`);
  }

  const sourcePath = `src/${CONTRACT}.sol`;
  const input = {
    language: "Solidity",
    sources: { [sourcePath]: { content: readFileSync(join(here, sourcePath), "utf8") } },
    settings: {
      optimizer: { enabled: true, runs: OPTIMIZER_RUNS },
      evmVersion: EVM_VERSION,
      outputSelection: {
        [sourcePath]: { [CONTRACT]: ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"] },
      },
    },
  };

  const output = JSON.parse(solc.compile(JSON.stringify(input)));
  const diagnostics = output.errors ?? [];
  for (const d of diagnostics) {
    process.stderr.write(d.formattedMessage ?? `${d.severity}: ${d.message}\n`);
  }
  // Warnings fail the build too: the contract is small enough to keep clean.
  if (diagnostics.some((d) => d.severity === "error" || d.severity === "warning")) {
    throw new Error("compilation reported errors or warnings");
  }

  const contract = output.contracts?.[sourcePath]?.[CONTRACT];
  if (!contract) throw new Error(`no ${CONTRACT} in compiler output`);
  const bin = contract.evm.bytecode.object;
  const runtime = contract.evm.deployedBytecode.object;
  if (!bin || !runtime) throw new Error("empty bytecode");
  if (bin.includes("__")) throw new Error("bytecode has unlinked library references");

  // The creation code is the constructor followed by the runtime code.
  const at = bin.indexOf(runtime);
  if (at < 0 || at % 2 !== 0) throw new Error("runtime code not found in creation code");
  checkOpcodes(bin.slice(0, at), "constructor code");
  checkOpcodes(stripMetadata(runtime), "runtime code");

  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, `${CONTRACT}.abi.json`), JSON.stringify(contract.abi, null, 2) + "\n");
  // No trailing newline: abigen embeds the file's bytes verbatim.
  writeFileSync(join(out, `${CONTRACT}.bin`), bin);

  process.stderr.write(
    `${CONTRACT}: solc ${version}, evmVersion ${EVM_VERSION}, optimizer runs ${OPTIMIZER_RUNS}, ` +
      `creation ${bin.length / 2} bytes, runtime ${runtime.length / 2} bytes -> ${out}\n`,
  );
}

try {
  main();
} catch (err) {
  process.stderr.write(`build.mjs: ${err.message}\n`);
  process.exit(1);
}
