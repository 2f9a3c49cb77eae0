// Loading the shared codec test vectors (spec/vectors) and reading one as a one-chunk zarrita array.
import { readdirSync, readFileSync } from "node:fs";
import { createHash } from "node:crypto";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as zarr from "zarrita";
import { cOrder } from "./c_order.js";

export const VECTORS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../spec/vectors");

const TYPED = {
	int8: Int8Array, int16: Int16Array, int32: Int32Array, int64: BigInt64Array,
	uint8: Uint8Array, uint16: Uint16Array, uint32: Uint32Array, uint64: BigUint64Array,
	float32: Float32Array, float64: Float64Array, float16: globalThis.Float16Array,
};

/** Every vector: its metadata, encoded chunk and expected decoded chunk. */
export function loadVectors() {
	const out = [];
	for (const codec of readdirSync(VECTORS).sort()) {
		for (const file of readdirSync(path.join(VECTORS, codec)).sort()) {
			if (!file.endsWith(".json")) continue;
			const meta = JSON.parse(readFileSync(path.join(VECTORS, codec, file), "utf8"));
			const encoded = new Uint8Array(readFileSync(path.join(VECTORS, codec, meta.encoded)));
			const decoded = new Uint8Array(readFileSync(path.join(VECTORS, codec, meta.decoded)));
			for (const [bytes, digest] of [[encoded, meta.encoded_sha256], [decoded, meta.decoded_sha256]]) {
				if (createHash("sha256").update(bytes).digest("hex") !== digest) throw new Error(`${file}: digest mismatch`);
			}
			out.push({ meta, encoded, decoded });
		}
	}
	return out;
}

/** A read-only in-memory zarrita store holding one array made of one chunk. */
export function oneChunkStore(meta, chunk) {
	const z = meta.zarr;
	const doc = {
		zarr_format: 3, node_type: "array", shape: z.shape, data_type: z.data_type,
		chunk_grid: { name: "regular", configuration: { chunk_shape: z.shape } },
		chunk_key_encoding: { name: "default", configuration: { separator: "/" } },
		fill_value: z.fill_value, codecs: z.codecs, attributes: {},
	};
	const files = new Map([
		["/zarr.json", new TextEncoder().encode(JSON.stringify(doc))],
		[`/c/${z.shape.map(() => "0").join("/")}`, chunk],
	]);
	return { get: async (key) => files.get(key) };
}

/** Read the whole vector array with zarrita; returns it as C-ordered little-endian bytes. */
export async function readVector(meta, chunk) {
	const arr = await zarr.open.v3(oneChunkStore(meta, chunk), { kind: "array" });
	const got = await zarr.get(arr);
	return toCOrderBytes(got, meta.zarr.data_type);
}

/** C-ordered little-endian bytes of a zarrita result {data, shape, stride} (which may be strided). */
export function toCOrderBytes(result, dataType) {
	return new Uint8Array(cOrder(result, TYPED[dataType]).buffer);
}

export function float16Supported() {
	return typeof globalThis.Float16Array === "function";
}
