/**
 * The Redis store's index of occurrences by start, so that a page of an event listing
 * reads one page, not every occurrence.
 *
 * Each source has a sorted set `occ_start:{agent}:{source}` holding its occurrence keys
 * scored by start in epoch ms (members of one score sort by their bytes, as SQLite's
 * BINARY collation does), and its hash `source:{agent}:{source}` a field `max_span`: the
 * longest end − start in ms of any occurrence it held since the index was built. That
 * bound never shrinks, so it stays true; it lets a listing start its scan at
 * `range start − max_span` instead of at the beginning of time, as an occurrence starting
 * earlier ends before the range.
 *
 * The index is kept in the same Lua scripts that write the occurrences (`APPLY` calls
 * `index_upsert`, `index_remove` and `index_finish` from `INDEX_UPKEEP`), and deleted with
 * them, so a reader never sees one without the other. Stores written before the index
 * existed get it built when a master opens them (`INDEX_SOURCE`).
 *
 * @module
 */

/**
 * Lua functions prepended to the snapshot apply script. They expect KEYS[1] to be the
 * source hash and KEYS[3] the source's start index; values are `start end hash data`.
 */
export const INDEX_UPKEEP = `
local index_span = 0
local function index_upsert(key, value)
  local s, e = string.match(value, '^(%S+) (%S+) ')
  redis.call('ZADD', KEYS[3], s, key)
  local span = tonumber(e) - tonumber(s)
  if span > index_span then index_span = span end
end
local function index_remove(key)
  redis.call('ZREM', KEYS[3], key)
end
local function index_finish()
  if index_span > tonumber(redis.call('HGET', KEYS[1], 'max_span') or '0') then
    redis.call('HSET', KEYS[1], 'max_span', index_span)
  end
end
`;

/**
 * Builds a source's index from its occurrences: KEYS[1] the source hash, KEYS[2] its
 * occurrences, KEYS[3] its start index. Idempotent; does nothing for a source removed.
 */
export const INDEX_SOURCE = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('DEL', KEYS[3])
local all = redis.call('HGETALL', KEYS[2])
local span = 0
for i = 1, #all, 2 do
  local s, e = string.match(all[i + 1], '^(%S+) (%S+) ')
  redis.call('ZADD', KEYS[3], s, all[i])
  if tonumber(e) - tonumber(s) > span then span = tonumber(e) - tonumber(s) end
end
redis.call('HSET', KEYS[1], 'max_span', span)
return 1`;

/**
 * One page of a listing, merged across sources. KEYS: per source, in listing order
 * (agent, then source), its start index, its occurrences and its hash. ARGV[1], ARGV[2]:
 * the range's start and end in epoch ms; ARGV[3]: how many to answer at most; ARGV[4],
 * ARGV[5]: the start and key of the position to read after ('' for none); then per
 * source how it stands to that position: 'lt' (before its agent and source: only later
 * starts), 'eq' (its source: at the same start only later keys), 'gt' (after it: the
 * same start too). Answers source number, key and value of each occurrence, flat.
 *
 * Each source is walked by rank from the first start that can overlap the range, in
 * growing batches, and the sources are merged through a heap, so a page costs about its
 * own size whatever the number of sources. Keys are compared by their bytes, as Lua's
 * own comparison follows the server's locale.
 */
export const EVENT_PAGE = `
local rs, re, want = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local after_start, after_key = ARGV[4], ARGV[5]
-- Each source is read in batches that start small, as a page may need few of its
-- events, and double up to 1,000 while it supplies more.
local first_batch = math.min(1000, math.max(16, math.ceil(want / (#KEYS / 3))))
local function bytes_le(a, b)
  local n = math.min(#a, #b)
  for i = 1, n do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x < y end
  end
  return #a <= #b
end
local sources = {}
for i = 1, #KEYS / 3 do
  local index = KEYS[3 * i - 2]
  local span = tonumber(redis.call('HGET', KEYS[3 * i], 'max_span') or '0')
  local low = rs - span
  local rank
  local mode = ARGV[5 + i]
  if after_start == '' or tonumber(after_start) <= low then
    rank = redis.call('ZCOUNT', index, '-inf', low)
  elseif mode == 'lt' then
    rank = redis.call('ZCOUNT', index, '-inf', after_start)
  else
    rank = redis.call('ZCOUNT', index, '-inf', '(' .. after_start)
  end
  sources[i] = { index = index, occ = KEYS[3 * i - 1], rank = rank, batch = first_batch,
    buf = {}, pos = 1, done = false, skip = after_start ~= '' and mode == 'eq' }
end
local function refill(src)
  local batch = src.batch
  src.batch = math.min(1000, batch * 2)
  local got = redis.call('ZRANGE', src.index, src.rank, src.rank + batch - 1, 'WITHSCORES')
  src.rank = src.rank + #got / 2
  if #got / 2 < batch then src.done = true end
  src.buf, src.pos = {}, 1
  for j = 1, #got, 2 do
    local score = tonumber(got[j + 1])
    if score >= re then
      src.done = true
      break
    end
    local skipped = false
    if src.skip then
      if score == tonumber(after_start) then skipped = bytes_le(got[j], after_key) end
      if not skipped then src.skip = false end
    end
    if not skipped then src.buf[#src.buf + 1] = { key = got[j], score = score } end
  end
end
-- Whether the source has an event to offer, reading its next batch if need be.
local function ready(src)
  while src.pos > #src.buf and not src.done do refill(src) end
  return src.pos <= #src.buf
end
-- A binary heap of the sources with an event to offer, by that event's start, then by
-- source number (the listing's agent and source order).
local heap = {}
local function before(a, b)
  local x, y = sources[a].buf[sources[a].pos].score, sources[b].buf[sources[b].pos].score
  if x ~= y then return x < y end
  return a < b
end
local function push(i)
  heap[#heap + 1] = i
  local c = #heap
  while c > 1 do
    local p = math.floor(c / 2)
    if not before(heap[c], heap[p]) then break end
    heap[c], heap[p] = heap[p], heap[c]
    c = p
  end
end
local function pop()
  local top = heap[1]
  local last = table.remove(heap)
  if #heap > 0 then
    heap[1] = last
    local c = 1
    while true do
      local l, r, m = 2 * c, 2 * c + 1, c
      if l <= #heap and before(heap[l], heap[m]) then m = l end
      if r <= #heap and before(heap[r], heap[m]) then m = r end
      if m == c then break end
      heap[c], heap[m] = heap[m], heap[c]
      c = m
    end
  end
  return top
end
for i = 1, #sources do
  if ready(sources[i]) then push(i) end
end
local out = {}
while #out / 3 < want and #heap > 0 do
  local i = pop()
  local src = sources[i]
  local key = src.buf[src.pos].key
  src.pos = src.pos + 1
  local value = redis.call('HGET', src.occ, key)
  if value then
    local e = tonumber(string.match(value, '^%S+ (%S+) '))
    if e > rs then
      out[#out + 1] = i
      out[#out + 1] = key
      out[#out + 1] = value
    end
  end
  if ready(src) then push(i) end
end
return out`;

/** How a source stands to a listing's position: see `EVENT_PAGE`. */
export type SourceMode = "lt" | "eq" | "gt";
