-- The configured lab instances and their resource instances (slots).

local LI_FIELDS = {'transport', 'url', 'api', 'auth_user', 'auth_password',
                   'manages_polling'}

local function resource_types()
    local seen, list = {}, {}
    for _, ri in ipairs(redis.call('SMEMBERS', K('ri', 'all'))) do
        local rt = redis.call('HGET', K('ri', ri), 'resource_type')
        if rt and not seen[rt] then
            seen[rt] = true
            list[#list + 1] = rt
        end
    end
    table.sort(list)
    return list
end

-- Upsert one configured instance; returns its lab instance id.
local function sync_one(d)
    local rkey = cjson.encode({d.rt, d.ri})
    local ri = redis.call('HGET', K('ri', 'ids'), rkey)
    if not ri then
        ri = tostring(redis.call('INCR', K('ri', 'seq')))
        redis.call('HSET', K('ri', ri), 'resource_type', d.rt, 'name', d.ri,
                   'working', '1')
        redis.call('HSET', K('ri', 'ids'), rkey, ri)
        redis.call('SADD', K('ri', 'all'), ri)
        redis.call('SADD', K('rt', d.rt), ri)
    end
    local lkey = cjson.encode({d.exp, d.cat, d.inst})
    local li = redis.call('HGET', K('li', 'ids'), lkey)
    if not li then
        li = tostring(redis.call('INCR', K('li', 'seq')))
        redis.call('HSET', K('li', li), 'exp_name', d.exp, 'cat_name', d.cat,
                   'instance_name', d.inst, 'ri', ri)
        redis.call('HSET', K('li', 'ids'), lkey, li)
        redis.call('SADD', K('li', 'all'), li)
        redis.call('SADD', K('ri', ri, 'li'), li)
    else
        local old = load(K('li', li), 'url', 'api', 'ri')
        -- a changed url or api forgets the discovered api
        if old.url ~= d.url or old.api ~= d.api then
            redis.call('HDEL', K('li', li), 'discovered_api')
        end
        if old.ri ~= ri then
            if old.ri then
                redis.call('SREM', K('ri', old.ri, 'li'), li)
            end
            redis.call('SADD', K('ri', ri, 'li'), li)
            redis.call('HSET', K('li', li), 'ri', ri)
        end
    end
    local args = {'retired', '0'}
    for _, f in ipairs(LI_FIELDS) do
        args[#args + 1] = f
        args[#args + 1] = d[f] or ''
    end
    redis.call('HSET', K('li', li), unpack(args))
    return li
end

-- A: JSON array of {exp, cat, inst, rt, ri, transport, url, api,
-- auth_user, auth_password, manages_polling}, now. New instances are added
-- (working), changed ones updated, removed ones retired (never assigned
-- again) and deleted once nobody holds them.
local function sync_instances()
    local keep = {}
    for _, d in ipairs(cjson.decode(A[1])) do
        keep[sync_one(d)] = true
    end
    -- lab instances whose slot is held by a reservation that came to them
    local held = {}
    for _, ri in ipairs(redis.call('SMEMBERS', K('ri', 'all'))) do
        local h = live_holder(ri)
        if h then
            local li = redis.call('HGET', K('r', h), 'li')
            if li then
                held[li] = true
            end
        end
    end
    for _, li in ipairs(redis.call('SMEMBERS', K('li', 'all'))) do
        if not keep[li] then
            redis.call('HSET', K('li', li), 'retired', '1')
            if not held[li] then
                local l = load(K('li', li), 'exp_name', 'cat_name',
                               'instance_name', 'ri')
                redis.call('HDEL', K('li', 'ids'), cjson.encode(
                    {l.exp_name, l.cat_name, l.instance_name}))
                redis.call('SREM', K('li', 'all'), li)
                if l.ri then
                    redis.call('SREM', K('ri', l.ri, 'li'), li)
                end
                redis.call('DEL', K('li', li))
            end
        end
    end
    -- resource instances no lab instance uses and nobody holds
    for _, ri in ipairs(redis.call('SMEMBERS', K('ri', 'all'))) do
        if redis.call('SCARD', K('ri', ri, 'li')) == 0
                and not live_holder(ri) then
            local h = load(K('ri', ri), 'resource_type', 'name')
            redis.call('HDEL', K('ri', 'ids'),
                       cjson.encode({h.resource_type, h.name}))
            redis.call('SREM', K('ri', 'all'), ri)
            if h.resource_type then
                redis.call('SREM', K('rt', h.resource_type), ri)
            end
            redis.call('DEL', K('ri', ri), K('ri', ri, 'li'))
        end
    end
    -- which resource type serves an experiment type: that of its first
    -- lab instance in service
    redis.call('DEL', K('et'))
    for _, li in ipairs(sorted_ids(redis.call('SMEMBERS', K('li', 'all')))) do
        local l = load(K('li', li), 'exp_name', 'cat_name', 'ri', 'retired')
        if l.retired ~= '1' and l.ri then
            local rt = redis.call('HGET', K('ri', l.ri), 'resource_type')
            if rt then
                redis.call('HSETNX', K('et'),
                           cjson.encode({l.exp_name, l.cat_name}), rt)
            end
        end
    end
    -- new instances may serve waiting reservations at once
    for _, rt in ipairs(resource_types()) do
        run_queue(rt, A[2])
    end
    return 'ok'
end

-- A: ri id, ok, error, next, now. ok puts the instance back in service.
local function instance_checked()
    local key = K('ri', A[1])
    if redis.call('EXISTS', key) == 0 then
        return 'ok'
    end
    if A[2] == '1' then
        redis.call('HSET', key, 'working', '1', 'next_check', A[4])
        redis.call('HDEL', key, 'error')
        run_queue(redis.call('HGET', key, 'resource_type'), A[5])
    else
        redis.call('HSET', key, 'working', '0', 'next_check', A[4])
        if opt(A[3]) then
            redis.call('HSET', key, 'error', A[3])
        else
            redis.call('HDEL', key, 'error')
        end
    end
    return 'ok'
end

-- A: ri id, error, now, next_check. The instance stopped answering: out of
-- service, and its holder, if assigned or confirmed, back at the head of
-- the queue (priority -1) keeping its use; a finishing holder is left to
-- its dispose.
local function instance_failed()
    local ri, now = A[1], A[3]
    local key = K('ri', ri)
    if redis.call('EXISTS', key) == 0 then
        return 'ok'
    end
    redis.call('HSET', key, 'working', '0', 'next_check', A[4])
    if opt(A[2]) then
        redis.call('HSET', key, 'error', A[2])
    else
        redis.call('HDEL', key, 'error')
    end
    local h = live_holder(ri)
    if h then
        local r = load_res(h)
        if r.slot == ri and (r.state == 'assigned'
                             or r.state == 'confirmed') then
            local rkey = K('r', h)
            release_slot(h, r)
            move(h, r, 'waiting')
            redis.call('HSET', rkey, 'priority', '-1', 'latest_poll', now)
            redis.call('HDEL', rkey, 'li', 'claim_until', 'timestamp_before',
                       'timestamp_after', 'lab_session_id', 'api',
                       'next_should_finish')
            redis.call('ZADD', K('q', r.resource_type), -1, r.qm)
            redis.call('ZADD', K('poll'), now, h)
        end
    end
    local rt = redis.call('HGET', key, 'resource_type')
    if rt then
        run_queue(rt, now)
    end
    return 'ok'
end
