-- mod_weblab coordination on Redis (weblab_coord_redis.c). The .lua files
-- of this folder are joined into ONE script (build-aux/lua2c.sh), and
-- dispatch.lua runs the step named in ARGV[2]: every step is one script
-- call, so it is atomic and no client ever sees half of it.
--
-- ARGV: prefix, step, replay ("1" when the C side retries after a lost
-- answer: a step that already happened then reports success), step
-- arguments. "\0" stands for a NULL string (a C string never holds a NUL).
-- Doubles arrive as "%.17g" strings and are stored as given. Keys are made
-- here from the prefix (a deployment's namespace), so Redis Cluster is not
-- supported: one server, or a primary with replicas.
--
-- Keys (P = prefix):
--   P s:<sid>            hash   user session (TTL refreshed on access)
--   P sessions           zset   sid -> latest_access (cleanup)
--   P r:<id>             hash   reservation (TTL once ended and slot-free)
--   P seq                string reservation arrival counter
--   P q:<rt>             zset   waiting queue: member "<seq %016d><id>",
--                               score priority (ties: arrival order)
--   P st:<state>         set    ids in waiting|assigned|confirmed|finishing
--   P poll               zset   id -> latest_poll (waiting/assigned/confirmed)
--   P deadline           zset   id -> end of time_allowed (confirmed)
--   P sf                 zset   id -> next should_finish question
--   P ended              zset   id -> post_expires (done/cancelled)
--   P held               zset   id -> claim_until: cancelled while its lab
--                               was starting, still holding its slot
--   P ri:<n>             hash   resource instance (a slot): resource_type,
--                               name, working, error, next_check, holder
--   P ri:<n>:li          set    lab instances on it
--   P ri:all, ri:ids, ri:seq    all ids; [rt, name] -> id; id counter
--   P rt:<rt>            set    resource instances of a resource type
--   P li:<n>             hash   lab instance (exp_name, cat_name,
--                               instance_name, ri, transport, url, api...)
--   P li:all, li:ids, li:seq    all ids; [exp, cat, inst] -> id; counter
--   P et                 hash   [exp, cat] -> resource type (for reserve)
--
-- No double booking: ri:<n>.holder is set only by assign(), inside a
-- script, when the slot has no live holder, and cleared only by
-- release_slot(); a reservation's own "slot" field mirrors it.

local P = ARGV[1]
local replay = ARGV[3] == '1'
local A = {}
for i = 4, #ARGV do
    A[i - 3] = ARGV[i]
end

local QUEUE_SCAN_MAX = 256      -- waiting reservations one queue pass reads
local CANCELLED_KEEP = 3600     -- NoCurrentReservation rather than not found
local SESSION_TOUCH_SLACK = 60  -- refresh latest_access at most this often
local BROKEN_RECHECK = 5        -- first re-test of an instance that failed

local ACTIVE = {waiting = true, assigned = true, confirmed = true,
                finishing = true}
local POLLED = {waiting = true, assigned = true, confirmed = true}

local function K(...)
    return P .. table.concat({...}, ':')
end

local function opt(v)
    if v == '\0' or v == false then
        return nil
    end
    return v
end

local function sorted_ids(list)
    table.sort(list, function(a, b) return tonumber(a) < tonumber(b) end)
    return list
end

-- Named fields of a hash as a table (absent fields stay nil).
local function load(key, ...)
    local names = {...}
    local v = redis.call('HMGET', key, unpack(names))
    local t = {}
    for i, n in ipairs(names) do
        if v[i] then
            t[n] = v[i]
        end
    end
    return t
end

local function load_res(id)
    return load(K('r', id), 'state', 'resource_type', 'qm', 'slot',
                'claim_until', 'next_dispose', 'lab_session_id',
                'time_allowed', 'init_in_accounting', 'timestamp_before',
                'post_expires', 'priority')
end

-- The reservation holding resource instance ri, if it still exists (a
-- holder whose data is gone can never be disposed, so it holds nothing).
local function live_holder(ri)
    local h = redis.call('HGET', K('ri', ri), 'holder')
    if h and redis.call('EXISTS', K('r', h)) == 1 then
        return h
    end
    return nil
end

-- Change the state of reservation id (r from load_res) and keep the
-- indexes in step. Entering 'waiting' (re-queue) is done by the caller.
local function move(id, r, to)
    local from = r.state
    if from == to then
        return
    end
    if from == 'waiting' and r.qm then
        redis.call('ZREM', K('q', r.resource_type), r.qm)
    end
    if from == 'confirmed' then
        redis.call('ZREM', K('deadline'), id)
        redis.call('ZREM', K('sf'), id)
    end
    if POLLED[from] and not POLLED[to] then
        redis.call('ZREM', K('poll'), id)
    end
    if ACTIVE[from] then
        redis.call('SREM', K('st', from), id)
    end
    if ACTIVE[to] then
        redis.call('SADD', K('st', to), id)
    end
    redis.call('HSET', K('r', id), 'state', to)
    r.state = to
end

-- An ended reservation: listed for cleanup, and once it holds no slot its
-- data expires on its own at post_expires.
local function ended(id, r, post_expires)
    redis.call('ZADD', K('ended'), post_expires, id)
    if not r.slot then
        redis.call('PEXPIREAT', K('r', id), math.floor(post_expires * 1000))
    end
end

local function release_slot(id, r)
    if not r.slot then
        return
    end
    if redis.call('HGET', K('ri', r.slot), 'holder') == id then
        redis.call('HDEL', K('ri', r.slot), 'holder')
    end
    redis.call('HDEL', K('r', id), 'slot')
    redis.call('ZREM', K('held'), id)
    r.slot = nil
    if r.state == 'done' or r.state == 'cancelled' then
        local pe = redis.call('HGET', K('r', id), 'post_expires')
        if pe then
            ended(id, r, tonumber(pe))
        end
    end
end

-- Mark the resource instance held by r broken (start or dispose failed).
local function break_slot(r, err, now)
    if r.slot and redis.call('EXISTS', K('ri', r.slot)) == 1 then
        redis.call('HSET', K('ri', r.slot), 'working', '0',
                   'next_check', now + BROKEN_RECHECK)
        if err then
            redis.call('HSET', K('ri', r.slot), 'error', err)
        else
            redis.call('HDEL', K('ri', r.slot), 'error')
        end
    end
end
