// Read Zarr v3 arrays with zarrita.js and dump what it decoded, for scout's v3
// tests (tests/py/test_v3_interop.py).
//
//   node zarrita_read.mjs CASES.json
//
// CASES.json: {"cases": [{"dir": D, "out": RAW}, ...]}. One node process reads
// every case. For each, zarrita opens D as a v3 array, reads the whole array
// and this script writes its elements to RAW (C order, little-endian; bool as
// 0/1 bytes). Prints one JSON line per case:
//   {"dir", "ok": true, "shape", "chunks", "dtype", "fill_value", "codecs"}
//   {"dir", "ok": false, "error"}
// zarrita does not verify crc32c checksums on read (it drops the 4 bytes):
// tests that need a verification check it themselves.
import * as fs from "node:fs";
import * as zarr from "zarrita";
import { FileSystemStore } from "@zarrita/storage";

function jsonable(v) {
	if (typeof v === "bigint") return v.toString();
	if (typeof v === "number" && !Number.isFinite(v)) return String(v);
	return v;
}

// the bytes of a zarrita chunk {data, shape, stride} in C order: zarrita
// returns transposed arrays (the transpose codec) with their stored strides
function cOrderBytes({ data, shape, stride }) {
	const esize = data.BYTES_PER_ELEMENT;
	const src = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
	const n = shape.reduce((a, b) => a * b, 1);
	const out = new Uint8Array(n * esize);
	const idx = new Array(shape.length).fill(0);
	for (let k = 0; k < n; k++) {
		let off = 0;
		for (let d = 0; d < idx.length; d++) off += idx[d] * stride[d];
		out.set(src.subarray(off * esize, (off + 1) * esize), k * esize);
		for (let d = idx.length - 1; d >= 0; d--) {
			if (++idx[d] < shape[d]) break;
			idx[d] = 0;
		}
	}
	return out;
}

const cases = JSON.parse(fs.readFileSync(process.argv[2], "utf8")).cases;
let failed = 0;
for (const c of cases) {
	try {
		const arr = await zarr.open.v3(new FileSystemStore(c.dir), { kind: "array" });
		const got = await zarr.get(arr);
		fs.writeFileSync(c.out, cOrderBytes(got));
		console.log(
			JSON.stringify({
				dir: c.dir,
				ok: true,
				shape: got.shape,
				chunks: arr.chunks,
				dtype: arr.dtype,
				fill_value: jsonable(arr.fillValue),
				codecs: arr.codecs ?? null,
			}),
		);
	} catch (e) {
		failed++;
		console.log(JSON.stringify({ dir: c.dir, ok: false, error: String(e?.stack ?? e) }));
	}
}
process.exit(failed ? 1 : 0);
