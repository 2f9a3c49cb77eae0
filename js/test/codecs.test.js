// Registration, refusals and edge cases beyond the vectors.
import assert from "node:assert/strict";
import { test } from "node:test";
import * as zarr from "zarrita";
import { allowHttpFetcher } from "../src/icechunk.js";
import { CODECS, PYTHON_ONLY, register } from "../src/index.js";
import { loadVectors, readVector } from "./vectors.js";

const vectors = loadVectors();
const find = (codec, name) => vectors.find((v) => v.meta.codec === codec && v.meta.case === name);

test("register adds every codec to zarrita's registry, idempotently", () => {
	const before = new Map(zarr.registry);
	const names = register(zarr);
	assert.deepEqual(new Set(names), new Set([...Object.keys(CODECS), ...PYTHON_ONLY]));
	const snapshot = new Map(zarr.registry);
	register(zarr);
	assert.deepEqual(new Map(zarr.registry), snapshot);
	for (const [name, load] of before) assert.equal(zarr.registry.get(name), load, `${name} was replaced`);
	assert.throws(() => register({}), TypeError);
});

test("without register, zarrita cannot read a predictor vector", async () => {
	const registry = zarr.registry;
	const saved = registry.get("virtual_geotiff.horizontal_predictor");
	registry.delete("virtual_geotiff.horizontal_predictor");
	try {
		const { meta, encoded } = find("virtual_geotiff.horizontal_predictor", "uint8_uncompressed");
		await assert.rejects(readVector(meta, encoded), /horizontal_predictor/);
	} finally {
		registry.set("virtual_geotiff.horizontal_predictor", saved);
	}
});

test("a Python-only codec fails with a message naming the way out", async () => {
	register(zarr);
	const { meta, encoded } = find("virtual_geotiff.lerc", "float32_lossless");
	await assert.rejects(readVector(meta, encoded), (err) => /Python package virtual-geotiff/.test(String(err.cause ?? err)));
});

test("libtiff, an array->bytes Python-only codec, fails naming the Python extra", async () => {
	register(zarr);
	const { meta, encoded } = find("virtual_geotiff.libtiff", "ccitt_fax4_bits1_gdal");
	await assert.rejects(readVector(meta, encoded), (err) => /virtual-geotiff\[libtiff\]/.test(String(err.cause ?? err)));
});

test("pad refuses a chunk shorter than min_bytes instead of reading zeros", async () => {
	register(zarr);
	const { meta, encoded } = find("virtual_geotiff.pad", "int32_be_short");
	await assert.rejects(readVector(meta, encoded.subarray(0, 12)), (err) => /fewer than the 24/.test(String(err.cause ?? err)));
});

test("bitunpack refuses fewer rows than min_rows", async () => {
	register(zarr);
	const { meta, encoded } = find("virtual_geotiff.bitunpack", "bits1_width10");
	await assert.rejects(readVector(meta, encoded.subarray(0, 3)), (err) => /fewer than the 3 rows/.test(String(err.cause ?? err)));
});

test("lzw refuses an invalid code and a truncated stream does not read as the full chunk", async () => {
	register(zarr);
	const { meta, encoded, decoded } = find("virtual_geotiff.lzw", "uint8_table_reset_gdal");
	const bad = encoded.slice();
	bad[2] = 0xff; // a 9-bit code far beyond the table
	bad[3] = 0xff;
	await assert.rejects(readVector(meta, bad));
	let got = null;
	try {
		got = await readVector(meta, encoded.subarray(0, encoded.length >> 1));
	} catch {
		return; // refused: fine
	}
	assert.notDeepEqual(got, decoded);
});

test("floating_point_predictor refuses a chunk of the wrong length", async () => {
	register(zarr);
	const { meta, encoded } = find("virtual_geotiff.floating_point_predictor", "float32_uncompressed");
	await assert.rejects(readVector(meta, encoded.subarray(1)), (err) => /expected 80/.test(String(err.cause ?? err)));
});

test("unknown configuration fields are refused", () => {
	assert.throws(() => CODECS["virtual_geotiff.pad"].fromConfig({ min_bytes: 0, extra: 1 }, { dataType: "uint8", shape: [1] }), /unknown configuration field extra/);
});

test("allowHttpFetcher drops allow_http only and passes everything else through", async () => {
	const seen = [];
	const fetcher = allowHttpFetcher(async (err, request) => {
		seen.push([err, request]);
		return { data: new Uint8Array(1) };
	});
	const request = { url: "http://h/a.tif", rangeStart: 0, rangeEnd: 1, headers: {}, options: { allow_http: "true", timeout: "5s" } };
	await fetcher(null, request);
	assert.deepEqual(seen[0][1].options, { timeout: "5s" });
	assert.equal(seen[0][1].url, "http://h/a.tif");
	assert.deepEqual(request.options, { allow_http: "true", timeout: "5s" }); // the caller's object is untouched
	await fetcher(null, { ...request, options: undefined });
	assert.deepEqual(seen[1][1].options, {});
});
