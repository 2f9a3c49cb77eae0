// Loading the jSquash (Squoosh) WASM decoders: in a browser their own glue fetches the .wasm next to the module;
// under Node, whose fetch cannot read file: URLs, the module is compiled from the installed file instead.

const isNode = typeof (/** @type {any} */ (globalThis).process?.versions?.node) === "string";

/** @type {Map<string, Promise<(buffer: ArrayBuffer) => Promise<{data: Uint8ClampedArray, width: number, height: number}>>>} */
const loaded = new Map();

/**
 * The `decode` function of a jSquash package, initialised once.
 * @param {"jpeg" | "webp"} which
 */
export function jsquashDecoder(which) {
	let promise = loaded.get(which);
	if (!promise) {
		promise = load(which);
		loaded.set(which, promise);
	}
	return promise;
}

/** @param {"jpeg" | "webp"} which */
async function load(which) {
	const mod =
		which === "jpeg" ? await import("@jsquash/jpeg/decode.js") : await import("@jsquash/webp/decode.js");
	if (isNode) {
		const wasmPath =
			which === "jpeg" ? "@jsquash/jpeg/codec/dec/mozjpeg_dec.wasm" : "@jsquash/webp/codec/dec/webp_dec.wasm";
		// @ts-ignore: Node-only modules, never reached in a browser
		const { readFile } = await import(/* @vite-ignore */ "node:fs/promises");
		// @ts-ignore
		const { fileURLToPath } = await import(/* @vite-ignore */ "node:url");
		const code = await readFile(fileURLToPath(import.meta.resolve(wasmPath)));
		await mod.init(await WebAssembly.compile(code));
	}
	return mod.default;
}
