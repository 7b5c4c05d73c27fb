import { readOnnxSignature } from './index.ts';

// Deeply nested length-delimited field 7 (graph) -> 11 (input) -> ... build nested TypeProto.sequence chain
function varint(n: number): number[] {
  const o: number[] = [];
  while (n > 127) {
    o.push((n & 127) | 128);
    n >>>= 7;
  }
  o.push(n);
  return o;
}
let inner: number[] = [];
for (let i = 0; i < 100000; i++)
  inner = [0x22, ...varint(inner.length), ...inner].slice(0) && [0x0a, ...varint(inner.length + 0), ...inner];
// wrap: graph.input[0].type = nested
const vi = [0x12, ...varint(inner.length), ...inner];
const graph = [0x5a, ...varint(vi.length), ...vi];
const model = new Uint8Array([0x08, 8, 0x3a, ...varint(graph.length), ...graph]);
const t = Date.now();
try {
  readOnnxSignature(model);
  console.log('no throw');
} catch (e: any) {
  console.log(e.name, e.code, e.message.slice(0, 120));
}
// group storm: 1MB of start-group tags for field 15
const groups = new Uint8Array(1 << 20).fill(0x7b);
try {
  readOnnxSignature(groups);
} catch (e: any) {
  console.log(e.name, e.code, e.message.slice(0, 120));
}
try {
  readOnnxSignature('abc' as any);
} catch (e: any) {
  console.log(e.name, e.code, e.message);
}
console.log(Date.now() - t, 'ms');
