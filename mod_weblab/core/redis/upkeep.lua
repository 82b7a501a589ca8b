-- What the periodic upkeep must do now, and cleanup.

local function li_manages_polling(id)
    local li = redis.call('HGET', K('r', id), 'li')
    return li and redis.call('HGET', K('li', li), 'manages_polling') == '1'
end

-- A: now, now - poll_time. Returns {expired, to_start, to_dispose,
-- should_finish, broken}; broken rows are {ri id, name, resource_type,
-- exp, cat, instance, transport, url, api, auth_user, auth_password,
-- manages_polling}.
local function due()
    local now = tonumber(A[1])
    local expired, seen = {}, {}
    -- poll timeout (labs that manage polling themselves excepted), then
    -- time over
    for _, id in ipairs(redis.call('ZRANGEBYSCORE', K('poll'), '-inf',
                                   '(' .. A[2])) do
        if not li_manages_polling(id) then
            expired[#expired + 1] = id
            seen[id] = true
        end
    end
    for _, id in ipairs(redis.call('ZRANGEBYSCORE', K('deadline'), '-inf',
                                   A[1])) do
        if not seen[id] then
            expired[#expired + 1] = id
        end
    end
    local to_start = {}
    for _, id in ipairs(redis.call('SMEMBERS', K('st', 'assigned'))) do
        local c = redis.call('HGET', K('r', id), 'claim_until')
        if not c or tonumber(c) < now then
            to_start[#to_start + 1] = id
        end
    end
    local to_dispose = {}
    for _, id in ipairs(redis.call('SMEMBERS', K('st', 'finishing'))) do
        local r = load(K('r', id), 'claim_until', 'next_dispose')
        if (not r.next_dispose or tonumber(r.next_dispose) <= now)
                and (not r.claim_until or tonumber(r.claim_until) < now) then
            to_dispose[#to_dispose + 1] = id
        end
    end
    -- cancelled during a start whose starter never disposed (its claim is
    -- over): release their slots
    for _, id in ipairs(redis.call('ZRANGEBYSCORE', K('held'), '-inf',
                                   '(' .. A[1])) do
        local r = load(K('r', id), 'state', 'slot', 'claim_until')
        if r.state == 'cancelled' and r.slot then
            if not r.claim_until or tonumber(r.claim_until) < now then
                to_dispose[#to_dispose + 1] = id
            end
        else
            redis.call('ZREM', K('held'), id)
        end
    end
    local should_finish = redis.call('ZRANGEBYSCORE', K('sf'), '-inf', A[1])
    local broken = {}
    for _, ri in ipairs(sorted_ids(redis.call('SMEMBERS', K('ri', 'all')))) do
        local h = load(K('ri', ri), 'working', 'next_check', 'name',
                       'resource_type')
        if h.working == '0' and (not h.next_check
                                 or tonumber(h.next_check) <= now) then
            local lis = sorted_ids(redis.call('SMEMBERS', K('ri', ri, 'li')))
            for _, li in ipairs(lis) do
                local l = load(K('li', li), 'exp_name', 'cat_name',
                               'instance_name', 'transport', 'url', 'api',
                               'auth_user', 'auth_password',
                               'manages_polling')
                if l.exp_name then
                    broken[#broken + 1] = {
                        ri, h.name or '', h.resource_type or '', l.exp_name,
                        l.cat_name or '', l.instance_name or '',
                        l.transport or '', l.url or '', l.api or '',
                        l.auth_user or '', l.auth_password or '',
                        l.manages_polling or '0'}
                end
            end
        end
    end
    return {expired, to_start, to_dispose, should_finish, broken}
end

-- A: now, now - session_timeout. Drops expired sessions and ended
-- reservations past post_expires that hold no slot.
local function cleanup()
    for _, sid in ipairs(redis.call('ZRANGEBYSCORE', K('sessions'), '-inf',
                                    '(' .. A[2])) do
        redis.call('DEL', K('s', sid))
        redis.call('ZREM', K('sessions'), sid)
    end
    for _, id in ipairs(redis.call('ZRANGEBYSCORE', K('ended'), '-inf',
                                   '(' .. A[1])) do
        local r = load(K('r', id), 'state', 'slot')
        if not r.state then
            redis.call('ZREM', K('ended'), id)      -- expired by its TTL
        elseif (r.state == 'done' or r.state == 'cancelled')
                and not r.slot then
            redis.call('DEL', K('r', id))
            redis.call('ZREM', K('ended'), id)
        end
    end
    return 'ok'
end
