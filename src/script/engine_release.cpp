// Engine::release: reaping finished tasks, for runs that start tasks without end (parley
// load spawns one per conversation). Kept apart from engine.cpp on purpose (see engine.hpp).
#include "script/engine.hpp"

namespace parley::script {

void Engine::release(Task* task) {
  if (task == nullptr || !task->finished || task->running || task->id == 1) return;
  int id = task->id;
  if (task->result_ref != LUA_NOREF) {
    luaL_unref(L_, LUA_REGISTRYINDEX, task->result_ref);
    task->result_ref = LUA_NOREF;
  }
  for (auto it = conn_owner_.begin(); it != conn_owner_.end();) {
    if (it->second == id) {
      captured_.erase(it->first);
      it = conn_owner_.erase(it);
    } else {
      ++it;
    }
  }
  tasks_.erase(id);
}

}  // namespace parley::script
