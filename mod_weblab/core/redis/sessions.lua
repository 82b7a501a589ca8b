-- User sessions: a hash each, with a TTL; the sorted set "sessions" lets
-- cleanup drop them by latest_access on the caller's clock.

local SESSION_FIELDS = {'user_id', 'login', 'full_name', 'role', 'created',
                        'latest_access'}

-- A: sid, user_id, login, full_name, role, created, latest_access, ttl
local function session_create()
    local key = K('s', A[1])
    if redis.call('EXISTS', key) == 1 then
        local s = load(key, 'user_id', 'created')
        if replay and s.user_id == A[2] and s.created == A[6] then
            return 'ok'
        end
        return 'exists'
    end
    local args = {}
    for i, f in ipairs(SESSION_FIELDS) do
        if opt(A[i + 1]) then
            args[#args + 1] = f
            args[#args + 1] = A[i + 1]
        end
    end
    redis.call('HSET', key, unpack(args))
    redis.call('EXPIRE', key, A[8])
    redis.call('ZADD', K('sessions'), A[7], A[1])
    return 'ok'
end

-- A: sid, now, timeout, ttl. The session's fields, or nothing when unknown
-- or expired (an expired one is deleted).
local function session_get()
    local key = K('s', A[1])
    local h = redis.call('HGETALL', key)
    local now = tonumber(A[2])
    local la
    for i = 1, #h, 2 do
        if h[i] == 'latest_access' then
            la = i + 1
        end
    end
    if not la then
        return {}
    end
    if tonumber(h[la]) < now - tonumber(A[3]) then
        redis.call('DEL', key)
        redis.call('ZREM', K('sessions'), A[1])
        return {}
    end
    if tonumber(h[la]) < now - SESSION_TOUCH_SLACK then
        redis.call('HSET', key, 'latest_access', A[2])
        redis.call('EXPIRE', key, A[4])
        redis.call('ZADD', K('sessions'), A[2], A[1])
        h[la] = A[2]
    end
    return h
end

-- A: sid
local function session_delete()
    redis.call('DEL', K('s', A[1]))
    redis.call('ZREM', K('sessions'), A[1])
    return 'ok'
end
