// The Lua runtime: one io_context, one Lua state, every conversation a coroutine ("task").
// A binding that must wait starts an Asio operation and suspends its task; the completion
// handler pushes the results and resumes it (Engine::wake).
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <deque>
#include <functional>
#include <lua.hpp>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "framing/framing.hpp"
#include "report/transcript.hpp"
#include "script/loop_guard.hpp"

namespace parley::script {

using Clock = std::chrono::steady_clock;

/// Exit statuses (DESIGN.md, "The command line").
enum Exit : int { kOk = 0, kFailed = 1, kScriptError = 2, kNetworkError = 3 };

struct EngineOptions {
  double timeout = 30.0;  ///< default for every wait, seconds
  bool strict = false;
  bool verbose = false;
  bool quiet = false;
  std::vector<std::string> include_dirs;  ///< -I: searched before the embedded modules
  std::vector<std::pair<std::string, std::string>> args;  ///< NAME=VALUE
  report::TranscriptOptions transcript;
  /// Bytes the Lua state may hold (--max-memory); 0: no limit. Past it, the script's code gets
  /// "not enough memory" (a script error) instead of the machine running out.
  std::size_t max_memory = 0;
};

struct Task {
  int id = 0;
  int parent = 0;  ///< the task that spawned it (0 for the main one)
  lua_State* co = nullptr;
  int thread_ref = LUA_NOREF;
  int result_ref = LUA_NOREF;  ///< table of results, or the error object
  bool running = false;
  bool waiting = false;
  bool finished = false;
  bool failed = false;
  bool joined = false;
  bool reported = false;
  bool detached = false;   ///< its handle was collected: nobody can join it any more
  bool cancelled = false;  ///< ended by cancel(): completions may still be on their way
  /// Nobody reads what it returns (parley load's conversations): finish() keeps no table of
  /// results (an error object is kept all the same).
  bool results_unused = false;
  int exit = 0;
  Clock::time_point resumed_at;
  std::vector<std::function<void()>> on_finish;  ///< joiners
  /// The tasks it spawned that are not forgotten yet: cancel() finds a task's family here,
  /// without walking every task.
  std::unordered_set<int> children;
  /// The connections it opened whose lines are kept (only with enable_capture()). A vector:
  /// an empty std::deque allocates ~600 bytes, per task, even in runs that capture nothing.
  std::vector<int> captured_conns;
};

/// What `step(name, fn, ...)` reports to (parley load's runner, Engine::set_step_hooks);
/// without hooks a step just calls its function.
class StepHooks {
 public:
  virtual ~StepHooks() = default;
  /// Step `name` of the running conversation begins: a token for end(), 0 when it is not
  /// timed (not inside a conversation of the load).
  virtual int begin_step(std::string_view name) = 0;
  /// The step of `token` returned.
  virtual void end_step(int token) = 0;
};

class Engine {
 public:
  explicit Engine(EngineOptions options);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  /// Runs a script file (or embedded chunk when `text` is given) as the main conversation
  /// until it ends; returns the exit status.
  int run_file(const std::string& path);
  int run_chunk(const std::string& name, std::string_view text);

  /// Lets `require` find the script's own modules beside it.
  void prepend_module_dir(const std::string& dir);

  boost::asio::io_context& io() { return io_; }
  lua_State* lua() { return L_; }
  const EngineOptions& options() const { return options_; }
  report::Transcript& transcript() { return transcript_; }
  bool stopping() const { return stopping_; }

  /// The engine of a Lua state (stored in the registry).
  static Engine& of(lua_State* L);
  /// The task a thread runs, or nullptr (the main state, or a coroutine a script made).
  static Task* task_of(lua_State* L);

  /// Checks that the running code may wait and marks its task waiting; returns the task's id.
  /// Raises a script error otherwise. The binding then starts its operation and returns
  /// suspend(L): protect<> yields. Completion handlers keep the id, never a Task*: the task
  /// may be cancelled and forgotten before they run.
  int prepare_wait(lua_State* L);
  /// Resumes waiting task `id` with the values `push` leaves on its stack (returns their
  /// count). Nothing happens when the task has ended or is forgotten. `push` is called here
  /// and now, as it is (a std::function of the captures of a read's completion was an
  /// allocation per reply), unless the task has not yielded yet: then it is kept for later.
  template <typename Push>
  void wake(int id, Push&& push) {
    Task* t = find_task(id);
    if (stopping_ || t == nullptr || t->finished) return;
    if (t->running) return wake_later(id, std::function<int(lua_State*)>(std::forward<Push>(push)));
    t->waiting = false;
    luaL_checkstack(t->co, 8, "wake");
    int n = push(t->co);
    resume(t, n);
  }
  /// Starts a new task running the function on top of `L`'s stack with `nargs` arguments
  /// below... (pops them). Returns the task.
  Task* spawn(lua_State* L, int nargs);
  Task* find_task(int id);

  /// The task being resumed on this thread, or nullptr.
  static Task* running();

  /// Registers something to cancel when the run ends, or when its owner task is cancelled
  /// (a connection, a listener, a timer). `owner` is a task id; -1 means the running task.
  int add_canceller(std::function<void()> cancel, int owner = -1);
  void remove_canceller(int id);
  /// Ends the run as if the main conversation had finished (Ctrl-C in `parley serve`): every
  /// task is stopped and what they opened is closed; run_file/run_chunk then return.
  void interrupt();
  bool interrupted() const { return interrupted_; }
  /// Ends a task and every task it spawned (that has not finished) with an error saying
  /// `why`, and closes what they opened. Their joiners are woken with that error.
  void cancel(Task* task, const std::string& why);
  /// Forgets a finished task that nobody will join, and its results (parley load reaps every
  /// conversation so that a long run does not grow), whether it ended by itself or by
  /// cancel(): completions still on their way look it up by id and find nothing.
  /// Defined in engine_release.cpp.
  void release(Task* task);
  /// The script dropped the handle of task `id`: once finished it is forgotten (a server
  /// spawning a conversation per client must not grow without end).
  void detach(int id);

  int next_connection_id() { return ++connections_; }

  void set_step_hooks(StepHooks* hooks) { step_hooks_ = hooks; }
  StepHooks* step_hooks() const { return step_hooks_; }

  /// Keeps the transcript lines of every connection (bounded), so that a task's transcript can
  /// be shown in a report even when it was not printed.
  void enable_capture();
  /// Connection `conn` opened on behalf of task `owner`: its lines are kept when capturing.
  void register_conn(int conn, int owner);
  /// The last `max_lines` captured lines of the connections `task` and its descendants opened.
  std::vector<std::string> captured_for(int task, std::size_t max_lines) const;
  void forget_captured(int task);

  /// A failure found outside any conversation (unread input at the end under --strict): the
  /// run fails with `exit` even when the script succeeded.
  void record_failure(int exit) {
    if (late_failure_ == 0) late_failure_ = exit;
  }

  /// Makes run_file/run_chunk return `exit` (a runner script decides the exit status).
  void set_exit(int exit) { exit_override_ = exit; }
  /// Chunk names of library code: failures point past them to the script's own line.
  void add_library_source(std::string source) { library_sources_.insert(std::move(source)); }
  bool is_library_source(const char* source) const;

 private:
  void open_libraries();
  void resume(Task* task, int nargs);
  /// wake() of a task that completed an operation before it yielded: once it has.
  void wake_later(int id, std::function<int(lua_State*)> push);
  void finish(Task* task, int status, int nresults);
  static void* allocate(void* ud, void* block, std::size_t old_size, std::size_t size);
  int run_main(int load_status);
  int report_unjoined_failures();
  void stop_everything();

  EngineOptions options_;
  /// What the Lua state holds, counted by its allocator (engine.cpp).
  struct Memory {
    std::size_t used = 0;
    std::size_t limit = 0;  ///< 0: none
    bool refused = false;   ///< an allocation was refused: "not enough memory" is the limit's
    /// Bytes allocated since the last collection collect_near_limit() made (freed ones are not
    /// taken off: garbage that Lua's emergency collections freed and the script filled again
    /// counts as allocated).
    std::size_t grown = 0;
    bool starved = false;  ///< an allocation was refused since that collection
    /// Freed small blocks kept for reuse, by capacity in steps of kSmallStep bytes (a
    /// transaction makes and frees hundreds of Lua objects: strings, tables, closures; a
    /// free list is a few instructions where malloc and free are a couple of hundred).
    static constexpr std::size_t kSmallStep = 16;
    static constexpr std::size_t kHeader = 8;         ///< glibc's chunk header: usable = 16k + 8
    static constexpr std::size_t kSmallClasses = 16;  ///< up to 264 bytes
    static constexpr std::size_t kCacheBytes = 256 * 1024;  ///< at most this much kept
    void* free_list[kSmallClasses + 1] = {};
    std::size_t cached_bytes = 0;
    Memory() = default;
    Memory(const Memory&) = delete;
    Memory& operator=(const Memory&) = delete;
    ~Memory();
    static std::size_t class_of(std::size_t size);
    void* take(std::size_t size);
    void give(void* block);
    /// push_block: the block the next allocation takes when it is that string's (Lua then
    /// copies the bytes onto themselves, which memcpy skips); freed otherwise.
    char* adopt = nullptr;
    std::size_t adopt_size = 0;
    bool adopt_armed = false;
    std::size_t string_head = 0;  ///< where a long string's bytes lie in its block; 0: unknown
    bool probing = false;         ///< the constructor is finding string_head
    char* probed = nullptr;
    std::size_t probed_size = 0;
  };
  void find_string_head();

 public:
  /// Near --max-memory, collects garbage before a conversation resumes or a binding runs
  /// (safe points, outside the VM's own work).
  static void collect_near_limit(lua_State* L);
  /// Bytes before a long string's in the block Lua allocates for it (the header), so that
  /// bytes received into a framing::Block with that head can become a string without a copy;
  /// 0 when this Lua's layout was not recognised (push_block then copies).
  std::size_t string_head() const { return memory_.string_head; }
  /// Pushes the bytes of `block` as a Lua string, giving Lua the block itself when its head
  /// is string_head() (counted against --max-memory as any string), else a copy.
  static void push_block(lua_State* L, framing::Block& block);

 private:
  Memory memory_;
  LoopGuard guard_{options_.timeout};
  /// Run by one thread, the only one that touches its sockets: the scheduler skips waking
  /// others, and the reactor locks no socket for an operation (two mutexes a read or a write).
  /// Other threads may still post to it (parley load's controls).
  boost::asio::io_context io_{BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO};
  report::Transcript transcript_;
  lua_State* L_ = nullptr;
  std::map<int, std::unique_ptr<Task>> tasks_;
  // A task's cancellers are a list through their entries (prev/next: canceller ids, 0 at the
  // ends) with its head in cancellers_of_: O(1) to add and remove, and no hash set per task
  // (a set's buckets and node were ~200 bytes per conversation that opened a connection).
  struct Canceller {
    int owner;
    std::function<void()> cancel;
    int prev = 0;
    int next = 0;
  };
  // Everything below is forgotten when what it describes ends, in O(1): a long-running engine
  // (parley serve, a long parley load) must not slow down with the connections it has seen.
  std::unordered_map<int, Canceller> cancellers_;
  std::unordered_map<int, int> cancellers_of_;  ///< owner task id -> its newest canceller
  std::unordered_set<std::string> library_sources_;
  StepHooks* step_hooks_ = nullptr;
  int next_task_ = 0;
  int next_canceller_ = 0;
  int connections_ = 0;
  bool stopping_ = false;
  bool interrupted_ = false;
  int exit_override_ = -1;
  int late_failure_ = 0;
  int unjoined_exit_ = 0;  ///< of failed tasks already forgotten

  void release_if_detached(Task* task);
  void release_now_if_detached(Task* task);
  bool capture_ = false;
  std::unordered_map<int, std::deque<std::string>> captured_;  ///< lines, by connection id

  /// The task and its descendants (those not forgotten), in id order.
  std::vector<int> family(int task) const;
  void forget_conns(Task& task);
};

/// Registry field holding Lua's own `require` (the engine puts it there before any module).
inline constexpr const char* kRequireKey = "parley.require";

/// Installs the bindings (defined in the bind_*.cpp files).
void open_core(lua_State* L);         // parley table, spawn, sleep, fail, secret, clock, ...
void open_connections(lua_State* L);  // connect, listen, exec and the connection methods
void open_crypto(lua_State* L);       // parley.crypto
void open_relay(lua_State* L);        // parley.relay (parley record)
void install_searcher(lua_State* L);  // embedded modules and -I directories

/// Registers `value` as a secret, with the plain encodings a server may echo it in (base64,
/// hex): secret() and args go through it (bind_crypto.cpp).
void register_secret(Engine& engine, std::string_view value);

}  // namespace parley::script
