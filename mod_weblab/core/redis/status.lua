-- Read-only views for status pages, health checks and administrators.

-- Every lab instance in service configuration, by resource type, name and
-- lab instance id: rows {ri id, name, resource_type, working, error,
-- exp, cat, instance, transport, url, api, manages_polling, holder,
-- holder_login, holder_state, queue_length}.
local function instances()
    local rows = {}
    for _, ri in ipairs(redis.call('SMEMBERS', K('ri', 'all'))) do
        local h = load(K('ri', ri), 'name', 'resource_type', 'working',
                       'error')
        local holder = live_holder(ri)
        local hr = holder and load(K('r', holder), 'login', 'state') or {}
        local qlen = h.resource_type
                     and redis.call('ZCARD', K('q', h.resource_type)) or 0
        local lis = sorted_ids(redis.call('SMEMBERS', K('ri', ri, 'li')))
        for _, li in ipairs(lis) do
            local l = load(K('li', li), 'exp_name', 'cat_name',
                           'instance_name', 'transport', 'url', 'api',
                           'manages_polling', 'retired')
            if l.exp_name and l.retired ~= '1' then
                rows[#rows + 1] = {
                    ri, h.name or '', h.resource_type or '', h.working or '0',
                    h.error or '\0', l.exp_name, l.cat_name or '',
                    l.instance_name or '', l.transport or '', l.url or '',
                    l.api or '', l.manages_polling or '0', holder or '\0',
                    hr.login or '\0', hr.state or '\0', tostring(qlen),
                    li}
            end
        end
    end
    table.sort(rows, function(a, b)
        if a[3] ~= b[3] then
            return a[3] < b[3]
        end
        if a[2] ~= b[2] then
            return a[2] < b[2]
        end
        return tonumber(a[17]) < tonumber(b[17])
    end)
    for _, row in ipairs(rows) do
        row[17] = nil
    end
    return rows
end

-- Every waiting reservation by resource type, then queue order: rows
-- {resource_type, position, login, full_name, exp, cat, priority,
-- created}.
local function queue()
    local types, seen = {}, {}
    for _, id in ipairs(redis.call('SMEMBERS', K('st', 'waiting'))) do
        local rt = redis.call('HGET', K('r', id), 'resource_type')
        if rt and not seen[rt] then
            seen[rt] = true
            types[#types + 1] = rt
        end
    end
    table.sort(types)
    local rows = {}
    for _, rt in ipairs(types) do
        local members = redis.call('ZRANGE', K('q', rt), 0, -1)
        for pos, m in ipairs(members) do
            local r = load(K('r', string.sub(m, 17)), 'login', 'full_name',
                           'exp_name', 'cat_name', 'priority', 'created')
            rows[#rows + 1] = {rt, tostring(pos - 1), r.login or '',
                               r.full_name or '', r.exp_name or '',
                               r.cat_name or '', r.priority or '0',
                               r.created or '0'}
        end
    end
    return rows
end
