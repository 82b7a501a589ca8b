-- Run the step named in ARGV[2] (the last file of the script).

local steps = {
    session_create = session_create, session_get = session_get,
    session_delete = session_delete, reserve = reserve, get = get,
    touch = touch, claim = claim, set_api = set_api, confirm = confirm,
    start_failed = start_failed, finish = finish,
    dispose_later = dispose_later, disposed = disposed,
    set_should_finish = set_should_finish, due = due,
    sync_instances = sync_instances, instance_checked = instance_checked,
    cleanup = cleanup, instance_failed = instance_failed,
    instances = instances, queue = queue,
}

local step = steps[ARGV[2]]
if not step then
    return redis.error_reply('WEBLAB unknown step ' .. tostring(ARGV[2]))
end
return step()
