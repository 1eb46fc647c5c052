import assert from "node:assert/strict";
import { ifNoneMatchHits } from "../../master/http/conditional.ts";

// RFC 9110 §13.1.2: "A recipient MUST use the weak comparison function when comparing
// entity tags for If-None-Match", and weak comparison (§8.8.3.2) ignores the W/ prefix.
Deno.test("If-None-Match compares entity tags weakly", () => {
  assert.equal(ifNoneMatchHits('W/"abc"', 'W/"abc"'), true);
  assert.equal(ifNoneMatchHits('"abc"', 'W/"abc"'), true);
  assert.equal(ifNoneMatchHits('W/"abc"', '"abc"'), true);
  assert.equal(ifNoneMatchHits('"abd"', 'W/"abc"'), false);
});

// §13.1.2: "If the field value is '*', the condition is false if the origin server has a
// current representation for the target resource."
Deno.test("If-None-Match: * matches any current representation", () => {
  assert.equal(ifNoneMatchHits("*", 'W/"abc"'), true);
  assert.equal(ifNoneMatchHits(" * ", '"x"'), true);
});

// §13.1.2: the field is a list of entity tags; any member matching is enough.
Deno.test("If-None-Match: one tag of a list matching is enough", () => {
  assert.equal(ifNoneMatchHits('"old", W/"abc" ,"other"', 'W/"abc"'), true);
  assert.equal(ifNoneMatchHits('"old","other"', 'W/"abc"'), false);
});

Deno.test("an absent or malformed If-None-Match never matches", () => {
  assert.equal(ifNoneMatchHits(undefined, 'W/"abc"'), false);
  assert.equal(ifNoneMatchHits("", 'W/"abc"'), false);
  assert.equal(ifNoneMatchHits("abc", 'W/"abc"'), false);
  assert.equal(ifNoneMatchHits('w/"abc"', 'W/"abc"'), false, "the W/ prefix is case-sensitive");
});
