// Counts the leaf test cases of a Deno JUnit report (describe blocks are
// test cases whose steps are the real tests): prints "passed failed".
import { readFileSync } from "node:fs";
const xml = readFileSync(process.argv[2], "utf8");
const unescape = (s) =>
  s.replace(/&gt;/g, ">").replace(/&lt;/g, "<").replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, "&");
const cases = [];
const re = /<testcase name="([^"]*)"[^>]*>([\s\S]*?)<\/testcase>/g;
for (let m; (m = re.exec(xml));) cases.push({ name: unescape(m[1]), failed: /<failure|<error/.test(m[2]) });
const names = cases.map((c) => c.name);
let passed = 0, failed = 0;
for (const c of cases) {
  if (names.some((n) => n.startsWith(c.name + " > "))) continue; // a group, not a test
  if (c.failed) failed++;
  else passed++;
}
console.log(`${passed} ${failed}`);
