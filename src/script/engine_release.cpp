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
  forget_conns(*task);
  if (Task* parent = find_task(task->parent)) parent->children.erase(id);
  tasks_.erase(id);
}

}  // namespace parley::script
