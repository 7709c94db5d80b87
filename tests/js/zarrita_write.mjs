// Write Zarr v3 arrays and groups with zarrita.js, the independent peer of
// scout's v3 tests (tests/py/test_v3_interop.py, tests/py/test_groups.py).
//
//   node zarrita_write.mjs CASES.json
//
// CASES.json: {"cases": [CASE, ...]}. One node process writes every case.
// An array case:
//   {"kind": "array", "dir": D, "dtype": "int16", "shape": [..], "chunks": [..],
//    "codecs": [v3 codec list], "chunk_key_encoding": {"name": "default"|"v2",
//    "configuration": {"separator": "/"|"."}}, "fill_value": v3 JSON fill value,
//    "absent": [[chunk coords], ..], "input": RAW, "expected": RAW,
//    "attributes": {..}, "dimension_names": [..] | null}
//   RAW files hold C-order little-endian element bytes (bool: 1 byte 0/1).
//   zarrita writes every chunk of `input` except the `absent` ones (edge chunks
//   padded by zarrita itself), then this script writes `expected`: the input
//   with the absent chunks' elements replaced by the fill value, computed here
//   from the case, not read back.
// A group case: {"kind": "group", "dir": D, "attributes": {..}}.
//
// What zarrita cannot do itself, done here on the metadata only and said so:
// - zarrita.create writes only the "default" chunk key encoding: for "v2" the
//   zarr.json is rewritten with the requested encoding before any chunk is
//   written, and zarrita (which reads "v2") then writes the chunks itself.
// - zarrita does not parse hex fill values ("0x..."): such a case carries
//   "fill_value_hex": the array is created with the equal numeric fill value,
//   its chunks are written, then zarr.json's fill_value becomes the hex string.
// Prints one JSON line per case: {"dir": D, "ok": true} or {"dir", "ok": false, "error"}.
import * as fs from "node:fs";
import * as path from "node:path";
import * as zarr from "zarrita";
import { FileSystemStore } from "@zarrita/storage";

const CTORS = {
	bool: Uint8Array,
	int8: Int8Array,
	int16: Int16Array,
	int32: Int32Array,
	int64: BigInt64Array,
	uint8: Uint8Array,
	uint16: Uint16Array,
	uint32: Uint32Array,
	uint64: BigUint64Array,
	float32: Float32Array,
	float64: Float64Array,
};
if (globalThis.Float16Array) CTORS.float16 = globalThis.Float16Array;

// the v3 JSON fill value → the JS scalar zarrita's typed arrays take
function fillScalar(dtype, fv) {
	if (dtype === "bool") return Boolean(fv);
	if (dtype === "int64" || dtype === "uint64") return BigInt(fv);
	if (typeof fv === "string") {
		const m = { NaN: NaN, Infinity: Infinity, "-Infinity": -Infinity };
		if (fv in m) return m[fv];
		throw new Error(`fill value ${fv} not handled by the writer`);
	}
	return fv;
}

function cOrderStrides(shape) {
	const s = new Array(shape.length);
	let step = 1;
	for (let i = shape.length - 1; i >= 0; i--) {
		s[i] = step;
		step *= shape[i];
	}
	return s;
}

// every chunk grid coordinate of shape/chunks, C order
function* chunkCoords(shape, chunks) {
	const n = shape.map((s, i) => Math.ceil(s / chunks[i]));
	if (n.some((k) => k === 0)) return;
	const c = new Array(shape.length).fill(0);
	for (;;) {
		yield c.slice();
		let d = c.length - 1;
		while (d >= 0 && ++c[d] === n[d]) c[d--] = 0;
		if (d < 0) return;
	}
}

// the flat C-order offsets of every element of `region` (per-dimension [start, stop))
function* regionOffsets(shape, region) {
	if (region.some((r) => r[1] <= r[0])) return;
	const strides = cOrderStrides(shape);
	const idx = region.map((r) => r[0]);
	for (;;) {
		let off = 0;
		for (let d = 0; d < idx.length; d++) off += idx[d] * strides[d];
		yield off;
		let d = idx.length - 1;
		for (; d >= 0; d--) {
			if (++idx[d] < region[d][1]) break;
			idx[d] = region[d][0];
		}
		if (d < 0) return;
	}
}

function chunkRegion(coords, shape, chunks) {
	return coords.map((c, i) => [c * chunks[i], Math.min((c + 1) * chunks[i], shape[i])]);
}

function rewriteJson(file, edit) {
	const meta = JSON.parse(fs.readFileSync(file, "utf8"));
	edit(meta);
	fs.writeFileSync(file, JSON.stringify(meta, null, 2));
}

async function writeArray(c) {
	fs.mkdirSync(c.dir, { recursive: true });
	const Ctor = CTORS[c.dtype];
	if (!Ctor) throw new Error(`dtype ${c.dtype} not supported by zarrita on this node`);
	const raw = fs.readFileSync(c.input);
	const buf = raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength);
	// bool elements are handled as their bytes (0/1), wrapped in zarrita's BoolArray to write
	const Flat = c.dtype === "bool" ? Uint8Array : Ctor;
	const values = new Flat(buf);
	const n = c.shape.reduce((a, b) => a * b, 1);
	if (values.length !== n) throw new Error(`input has ${values.length} elements, shape needs ${n}`);

	const store = new FileSystemStore(c.dir);
	const fill = fillScalar(c.dtype, c.fill_value);
	const ske = c.chunk_key_encoding ?? { name: "default", configuration: { separator: "/" } };
	await zarr.create(store, {
		shape: c.shape,
		chunkShape: c.chunks,
		dtype: c.dtype,
		codecs: c.codecs,
		// zarrita's create serialises the fill with JSON.stringify, which has no
		// BigInt: 64-bit integer fill values are passed as numbers (the tests
		// use ones a double holds exactly); open() turns them back into BigInt
		fillValue: typeof fill === "bigint" ? Number(fill) : fill,
		chunkSeparator: ske.name === "default" ? (ske.configuration?.separator ?? "/") : "/",
		dimensionNames: c.dimension_names ?? undefined,
		attributes: c.attributes ?? {},
	});
	const metaFile = path.join(c.dir, "zarr.json");
	if (ske.name !== "default") {
		rewriteJson(metaFile, (m) => {
			m.chunk_key_encoding = ske;
		});
	}
	const arr = await zarr.open.v3(store, { kind: "array" });
	const absent = new Set((c.absent ?? []).map((a) => a.join(",")));
	for (const coords of chunkCoords(c.shape, c.chunks)) {
		if (absent.has(coords.join(","))) continue;
		const region = chunkRegion(coords, c.shape, c.chunks);
		const sub = region.map((r) => r[1] - r[0]);
		const part = new Flat(sub.reduce((a, b) => a * b, 1));
		let k = 0;
		for (const off of regionOffsets(c.shape, region)) part[k++] = values[off];
		const data = c.dtype === "bool" ? new zarr.BoolArray(part.buffer) : part;
		await zarr.set(
			arr,
			region.map((r) => zarr.slice(r[0], r[1])),
			{ data, shape: sub, stride: cOrderStrides(sub) },
		);
	}
	if (c.fill_value_hex !== undefined) {
		rewriteJson(metaFile, (m) => {
			m.fill_value = c.fill_value_hex;
		});
	}
	// the expected data: the input, absent chunks at the fill value
	const exp = new Flat(buf.slice(0));
	const efill = c.dtype === "bool" ? (fill ? 1 : 0) : fill;
	for (const a of c.absent ?? []) {
		for (const off of regionOffsets(c.shape, chunkRegion(a, c.shape, c.chunks))) exp[off] = efill;
	}
	fs.writeFileSync(c.expected, new Uint8Array(exp.buffer, exp.byteOffset, exp.byteLength));
}

async function writeGroup(c) {
	fs.mkdirSync(c.dir, { recursive: true });
	await zarr.create(new FileSystemStore(c.dir), { attributes: c.attributes ?? {} });
}

const cases = JSON.parse(fs.readFileSync(process.argv[2], "utf8")).cases;
let failed = 0;
for (const c of cases) {
	try {
		if (c.kind === "group") await writeGroup(c);
		else await writeArray(c);
		console.log(JSON.stringify({ dir: c.dir, ok: true }));
	} catch (e) {
		failed++;
		console.log(JSON.stringify({ dir: c.dir, ok: false, error: String(e?.stack ?? e) }));
	}
}
process.exit(failed ? 1 : 0);
