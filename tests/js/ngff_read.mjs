// Read OME-Zarr 0.5 images (Zarr v3 groups) with zarrita.js, for scout's
// pyramid tests (tests/py/test_pyramid.py).
//
//   node ngff_read.mjs CASES.json
//
// CASES.json: {"cases": [{"dir": GROUP, "out": PREFIX}, ...]}. For each case
// zarrita opens GROUP as a v3 group, takes attributes.ome, opens every
// dataset of its first multiscales entry as a v3 array (through the group),
// reads it whole and writes its elements to PREFIX<path>.raw (C order,
// little-endian). Prints one JSON line per case:
//   {"dir", "ok": true, "ome": {...}, "levels": [{"path", "shape", "chunks",
//    "dtype", "dimension_names"}]}
//   {"dir", "ok": false, "error"}
import * as fs from "node:fs";
import * as zarr from "zarrita";
import { FileSystemStore } from "@zarrita/storage";

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
		const group = await zarr.open.v3(new FileSystemStore(c.dir), { kind: "group" });
		const ome = group.attrs.ome;
		const levels = [];
		for (const ds of ome.multiscales[0].datasets) {
			const arr = await zarr.open.v3(group.resolve(ds.path), { kind: "array" });
			const got = await zarr.get(arr);
			fs.writeFileSync(c.out + ds.path + ".raw", cOrderBytes(got));
			levels.push({
				path: ds.path,
				shape: arr.shape,
				chunks: arr.chunks,
				dtype: arr.dtype,
				dimension_names: arr.dimensionNames ?? null,
			});
		}
		console.log(JSON.stringify({ dir: c.dir, ok: true, ome, levels }));
	} catch (e) {
		failed++;
		console.log(JSON.stringify({ dir: c.dir, ok: false, error: String(e && e.stack || e) }));
	}
}
process.exit(failed ? 1 : 0);
