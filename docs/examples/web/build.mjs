// Bundle the page (esbuild-wasm) into a static directory: main.js, Icechunk's WASI worker at the path its
// loader expects (next to the bundle), and every .wasm file the decoders fetch relative to the bundle.
// Usage: node build.mjs [outdir]   (default: dist)
import { copyFileSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild-wasm";

const here = path.dirname(fileURLToPath(import.meta.url));
const out = path.resolve(process.argv[2] ?? path.join(here, "dist"));
const require = createRequire(import.meta.url);
const icechunkWasi = path.dirname(require.resolve("@earthmover/icechunk-wasm32-wasi/package.json"));
// the codec package's own dependencies resolve from its directory (it is linked, not copied)
const codecs = path.dirname(fileURLToPath(import.meta.resolve("@virtual-geotiff/zarr-codecs/package.json")));
const fromCodecs = createRequire(path.join(codecs, "package.json"));

const common = { bundle: true, format: "esm", platform: "browser", target: "es2022", logLevel: "warning",
	external: ["node:*"], absWorkingDir: here };
await esbuild.build({ ...common, entryPoints: [path.join(here, "main.js")], outfile: path.join(out, "main.js") });
// icechunk.wasi-browser.js starts workers from new URL('@earthmover/icechunk-wasm32-wasi/wasi-worker-browser.mjs',
// import.meta.url): a path relative to the bundle.
await esbuild.build({ ...common, entryPoints: [path.join(icechunkWasi, "wasi-worker-browser.mjs")],
	outfile: path.join(out, "@earthmover", "icechunk-wasm32-wasi", "wasi-worker-browser.mjs") });
mkdirSync(out, { recursive: true });
copyFileSync(path.join(icechunkWasi, "icechunk.wasm32-wasi.wasm"), path.join(out, "icechunk.wasm32-wasi.wasm"));
for (const wasm of ["@jsquash/jpeg/codec/dec/mozjpeg_dec.wasm", "@jsquash/webp/codec/dec/webp_dec.wasm"]) {
	const file = fromCodecs.resolve(wasm);
	copyFileSync(file, path.join(out, path.basename(file)));
}
copyFileSync(path.join(here, "index.html"), path.join(out, "index.html"));
await esbuild.stop?.();
console.log(`built ${out}`);
