// Every codec test vector in spec/vectors decodes, through zarrita and this package, to its expected bytes.
import assert from "node:assert/strict";
import { test } from "node:test";
import * as zarr from "zarrita";
import { PYTHON_ONLY, register } from "../src/index.js";
import { float16Supported, loadVectors, readVector } from "./vectors.js";

register(zarr);
const vectors = loadVectors();

test("the vectors cover every codec this package decodes", () => {
	const covered = new Set(vectors.map((v) => v.meta.codec));
	for (const name of register(new Map())) assert.ok(covered.has(name), `no vector for ${name}`);
});

for (const { meta, encoded, decoded } of vectors) {
	const skip = PYTHON_ONLY.includes(meta.codec)
		? `${meta.codec} is decoded by Python only`
		: meta.zarr.data_type === "float16" && !float16Supported()
			? "float16 needs a platform Float16Array (zarrita too)"
			: false;
	test(`${meta.codec}: ${meta.case}`, { skip }, async () => {
		const got = await readVector(meta, encoded);
		assert.equal(got.length, decoded.length);
		assert.deepEqual(got, decoded);
	});
}
