-- The queue of a resource type: free working slots go to waiting
-- reservations in order (priority, then arrival), as the SQL backend's
-- run_queue does.

local function assign(id, member, f, rt, now)
    local key = K('r', id)
    redis.call('HSET', key, 'state', 'assigned', 'slot', f.ri, 'li', f.li,
               'timestamp_before', now)
    redis.call('HDEL', key, 'claim_until')
    redis.call('HSET', K('ri', f.ri), 'holder', id)
    redis.call('ZREM', K('q', rt), member)
    redis.call('SREM', K('st', 'waiting'), id)
    redis.call('SADD', K('st', 'assigned'), id)
end

-- now: the caller's time as received (a string), stored as given.
local function run_queue(rt, now)
    local free, nfree = {}, 0
    for _, ri in ipairs(sorted_ids(redis.call('SMEMBERS', K('rt', rt)))) do
        if redis.call('HGET', K('ri', ri), 'working') == '1'
                and not live_holder(ri) then
            local lis = sorted_ids(redis.call('SMEMBERS', K('ri', ri, 'li')))
            for _, li in ipairs(lis) do
                local l = load(K('li', li), 'exp_name', 'cat_name', 'retired')
                if l.exp_name and l.retired ~= '1' then
                    free[#free + 1] = {ri = ri, li = li, exp = l.exp_name,
                                       cat = l.cat_name}
                    nfree = nfree + 1
                end
            end
        end
    end
    if nfree == 0 then
        return
    end
    local used = {}
    local members = redis.call('ZRANGE', K('q', rt), 0, QUEUE_SCAN_MAX - 1)
    for _, m in ipairs(members) do
        if nfree == 0 then
            break
        end
        local id = string.sub(m, 17)
        local r = load(K('r', id), 'state', 'exp_name', 'cat_name')
        if r.state ~= 'waiting' then
            redis.call('ZREM', K('q', rt), m)   -- stale entry
        else
            for _, f in ipairs(free) do
                if not used[f.ri] and f.exp == r.exp_name
                        and f.cat == r.cat_name then
                    assign(id, m, f, rt, now)
                    -- one resource instance may serve several types
                    for _, g in ipairs(free) do
                        if g.ri == f.ri then
                            nfree = nfree - 1
                        end
                    end
                    used[f.ri] = true
                    break
                end
            end
        end
    end
end
