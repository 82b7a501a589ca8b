-- A reservation's life: reserve, status, claims, the lab's answers, finish
-- and disposal (the state machine of docs/INTERNALS.md).

local RES_FIELDS = {'session_id', 'user_id', 'login', 'full_name',
                    'exp_name', 'cat_name', 'priority', 'time_allowed',
                    'init_in_accounting', 'permanent_id',
                    'client_initial_data', 'request_info', 'route', 'origin'}

-- A: id, the RES_FIELDS values, now. Returns ok | exists | notfound.
local function reserve()
    local id, now = A[1], A[16]
    local key = K('r', id)
    if redis.call('EXISTS', key) == 1 then
        if replay and redis.call('HGET', key, 'session_id') == A[2] then
            return 'ok'
        end
        return 'exists'
    end
    local rt = redis.call('HGET', K('et'), cjson.encode({A[6], A[7]}))
    if not rt then
        return 'notfound'       -- no instance of that type deployed
    end
    local seq = redis.call('INCR', K('seq'))
    local qm = string.format('%016d', seq) .. id
    local args = {'state', 'waiting', 'resource_type', rt, 'created', now,
                  'latest_poll', now, 'seq', seq, 'qm', qm}
    for i, f in ipairs(RES_FIELDS) do
        if opt(A[i + 1]) then
            args[#args + 1] = f
            args[#args + 1] = A[i + 1]
        end
    end
    redis.call('HSET', key, unpack(args))
    redis.call('ZADD', K('q', rt), A[8], qm)
    redis.call('SADD', K('st', 'waiting'), id)
    redis.call('ZADD', K('poll'), now, id)
    local skey = K('s', A[2])
    if redis.call('EXISTS', skey) == 1 then
        redis.call('HSET', skey, 'reservation_id', id)
    end
    run_queue(rt, now)
    return 'ok'
end

-- A: id. The reservation's fields, then its lab instance's as "li.*", its
-- slot's name as "ri.name", and when waiting "position" and
-- "working_instances".
local function get()
    local id = A[1]
    local h = redis.call('HGETALL', K('r', id))
    if #h == 0 then
        return h
    end
    local r = {}
    for i = 1, #h, 2 do
        r[h[i]] = h[i + 1]
    end
    if r.li then
        local names = {'instance_name', 'transport', 'url', 'api',
                       'discovered_api', 'auth_user', 'auth_password',
                       'manages_polling'}
        local v = redis.call('HMGET', K('li', r.li), unpack(names))
        for i, n in ipairs(names) do
            if v[i] then
                h[#h + 1] = 'li.' .. n
                h[#h + 1] = v[i]
            end
        end
    end
    if r.slot then
        local name = redis.call('HGET', K('ri', r.slot), 'name')
        if name then
            h[#h + 1] = 'ri.name'
            h[#h + 1] = name
        end
    end
    if r.state == 'waiting' then
        local rank = r.qm and redis.call('ZRANK', K('q', r.resource_type),
                                         r.qm)
        local working = 0
        for _, ri in ipairs(redis.call('SMEMBERS', K('rt', r.resource_type))) do
            if redis.call('HGET', K('ri', ri), 'working') == '1' then
                working = working + 1
            end
        end
        h[#h + 1] = 'position'
        h[#h + 1] = tostring(rank or 0)
        h[#h + 1] = 'working_instances'
        h[#h + 1] = tostring(working)
    end
    return h
end

-- A: id, now
local function touch()
    local key = K('r', A[1])
    if redis.call('EXISTS', key) == 1 then
        redis.call('HSET', key, 'latest_poll', A[2])
        redis.call('ZADD', K('poll'), 'XX', A[2], A[1])
    end
    return 'ok'
end

-- A: id, state, now, until. 1 when this caller got the claim.
local function claim()
    local r = load_res(A[1])
    local now = tonumber(A[3])
    if r.state ~= A[2] or (r.state == 'cancelled' and not r.slot) then
        return 0
    end
    if replay and r.claim_until == A[4] then
        return 1
    end
    if r.claim_until and tonumber(r.claim_until) >= now then
        return 0
    end
    if r.state == 'finishing' and r.next_dispose
            and tonumber(r.next_dispose) > now then
        return 0
    end
    redis.call('HSET', K('r', A[1]), 'claim_until', A[4])
    return 1
end

-- A: id, api
local function set_api()
    local li = redis.call('HGET', K('r', A[1]), 'li')
    if li and redis.call('EXISTS', K('li', li)) == 1 then
        redis.call('HSET', K('li', li), 'discovered_api', A[2])
    end
    return 'ok'
end

-- A: id, lab_session_id, api, initial_configuration, initial_data, use_id,
-- now, next_should_finish (0: never). 1 when assigned -> confirmed.
local function confirm()
    local id, now, nsf = A[1], A[7], tonumber(A[8])
    local key = K('r', id)
    local r = load_res(id)
    if r.state ~= 'assigned' then
        if replay and r.state == 'confirmed'
                and r.lab_session_id == opt(A[2]) then
            return 1
        end
        return 0
    end
    move(id, r, 'confirmed')
    local names = {'lab_session_id', 'api', 'initial_configuration',
                   'initial_data', 'use_id'}
    for i, n in ipairs(names) do
        local v = opt(A[i + 1])
        if v then
            redis.call('HSET', key, n, v)
        else
            redis.call('HDEL', key, n)
        end
    end
    redis.call('HSET', key, 'timestamp_after', now, 'latest_poll', now)
    redis.call('HDEL', key, 'claim_until')
    redis.call('ZADD', K('poll'), now, id)
    if nsf > 0 then
        redis.call('HSET', key, 'next_should_finish', A[8])
        redis.call('ZADD', K('sf'), A[8], id)
    else
        redis.call('HDEL', key, 'next_should_finish')
    end
    local t0 = r.timestamp_before
    if r.init_in_accounting == '0' then
        t0 = now
    end
    if t0 and r.time_allowed then
        redis.call('ZADD', K('deadline'),
                   tonumber(t0) + tonumber(r.time_allowed), id)
    end
    return 1
end

-- A: id, error, now. The instance is marked broken, the slot released and
-- the reservation re-queued at the head (priority -1).
local function start_failed()
    local id, now = A[1], A[3]
    local key = K('r', id)
    local r = load_res(id)
    if not r.state then
        return 'ok'
    end
    break_slot(r, opt(A[2]), tonumber(now))
    if r.state == 'assigned' then
        release_slot(id, r)
        move(id, r, 'waiting')
        redis.call('HSET', key, 'priority', '-1')
        redis.call('HDEL', key, 'li', 'claim_until', 'timestamp_before')
        redis.call('ZADD', K('q', r.resource_type), -1, r.qm)
    elseif r.state == 'cancelled' then
        -- finished while its start was failing: just let the slot go
        redis.call('HDEL', key, 'claim_until')
        release_slot(id, r)
    end
    run_queue(r.resource_type, now)
    return 'ok'
end

-- A: id, reason, now. Idempotent.
local function finish()
    local id, now = A[1], A[3]
    local key = K('r', id)
    local r = load_res(id)
    if r.state == 'confirmed' then
        move(id, r, 'finishing')
        redis.call('HSET', key, 'finish_reason', A[2], 'next_dispose', now)
        redis.call('HDEL', key, 'next_should_finish', 'claim_until')
    elseif r.state == 'waiting' or r.state == 'assigned' then
        -- An assigned reservation whose start is under way keeps its slot:
        -- the starter sees the cancel in confirm() and disposes.
        local starting = r.state == 'assigned' and r.claim_until
                         and tonumber(r.claim_until) > tonumber(now)
        local pe = tonumber(now) + CANCELLED_KEEP
        move(id, r, 'cancelled')
        redis.call('HSET', key, 'finish_reason', A[2], 'post_expires', pe)
        if not starting then
            release_slot(id, r)
        else
            -- the starter disposes; should it fail to (a backend error),
            -- the upkeep does once its claim is over
            redis.call('ZADD', K('held'), r.claim_until, id)
        end
        ended(id, r, pe)
        if not starting then
            run_queue(r.resource_type, now)
        end
    end
    return 'ok'
end

-- A: id, at
local function dispose_later()
    local key = K('r', A[1])
    if redis.call('EXISTS', key) == 1 then
        redis.call('HSET', key, 'next_dispose', A[2])
        redis.call('HDEL', key, 'claim_until')
    end
    return 'ok'
end

-- A: id, end_data, now, post_expiry, broken, error. finishing -> done (a
-- cancelled one stays cancelled), slot released, queue run.
local function disposed()
    local id, now = A[1], A[3]
    local key = K('r', id)
    local r = load_res(id)
    if not r.state then
        return 'ok'
    end
    if A[5] == '1' then
        break_slot(r, opt(A[6]), tonumber(now))
    end
    local pe = tonumber(now) + tonumber(A[4])
    if r.state ~= 'cancelled' then
        move(id, r, 'done')
    end
    redis.call('HSET', key, 'finished', '1', 'post_expires', pe)
    if opt(A[2]) then
        redis.call('HSET', key, 'end_data', A[2])
    else
        redis.call('HDEL', key, 'end_data')
    end
    redis.call('HDEL', key, 'claim_until', 'next_dispose')
    ended(id, r, pe)
    release_slot(id, r)
    run_queue(r.resource_type, now)
    return 'ok'
end

-- A: id, at (<= 0: never ask)
local function set_should_finish()
    local id, at = A[1], A[2]
    local key = K('r', id)
    if tonumber(at) <= 0 then
        redis.call('HDEL', key, 'next_should_finish')
        redis.call('ZREM', K('sf'), id)
    elseif redis.call('HGET', key, 'state') == 'confirmed' then
        redis.call('HSET', key, 'next_should_finish', at)
        redis.call('ZADD', K('sf'), at, id)
    end
    return 'ok'
end
