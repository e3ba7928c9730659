---@meta asched

---The asched runtime: tasks, time, combinators, synchronisation, threads and real I/O.
local asched = {}

---@type string The version, e.g. "0.1.0".
asched.version = "0.1.0"

---@class asched.Error
---@field name string One of CancelledError, TimeoutError, InvalidStateError, QueueFull, QueueEmpty, ValueError, RuntimeError, DeadlockError, TaskGroupError, BrokenBarrierError, QueueShutDown, IOError.
---@field message string
---@field code string? IOError only: libuv's name for the error, e.g. "ENOENT", "ECONNREFUSED".
---@field errors any[]? TaskGroupError only: every error of the group, in the order raised.
---@field tracebacks (string|nil)[]? TaskGroupError only: tracebacks[i] is where errors[i] was raised.

---@class Task
---@field name string The task's name (`task-N` unless assigned).
local Task = {}
---Wait for the task. Raises the task's error, CancelledError, or RuntimeError when awaiting itself.
---@async
---@return any ...
function Task:await() end
---Request cancellation. No errors.
---@param msg? string
---@return boolean
function Task:cancel(msg) end
---The number of cancellation requests not taken back (asyncio's cancelling()).
---@return integer
function Task:cancelling() end
---Takes one cancellation request back; returns how many are left.
---@return integer
function Task:uncancel() end
---@return boolean
function Task:done() end
---@return boolean
function Task:cancelled() end
---The task's values. Raises InvalidStateError, CancelledError or the task's error.
---@return any ...
function Task:result() end
---The task's error or nil. Raises InvalidStateError or CancelledError.
---@return any
function Task:exception() end
---@return string?
function Task:traceback() end
---@param fn fun(task: Task)
function Task:add_done_callback(fn) end

---@class Guard A releaser usable as `<close>`.

---@class Semaphore
local Semaphore = {}
---Raises CancelledError.
---@async
---@return Guard
function Semaphore:acquire() end
function Semaphore:release() end
---@return boolean
function Semaphore:locked() end
---Raises CancelledError and fn's errors.
---@async
---@param fn function
---@return any ...
function Semaphore:with(fn, ...) end

---@class BoundedSemaphore: Semaphore
local BoundedSemaphore = {}
---Raises ValueError when releasing above the bound.
function BoundedSemaphore:release() end

---@class Lock
local Lock = {}
---Raises CancelledError.
---@async
---@return Guard
function Lock:acquire() end
---Raises RuntimeError when not locked.
function Lock:release() end
---@return boolean
function Lock:locked() end
---Raises CancelledError and fn's errors.
---@async
---@param fn function
---@return any ...
function Lock:with(fn, ...) end

---@class Event
local Event = {}
function Event:set() end
function Event:clear() end
---@return boolean
function Event:is_set() end
---Raises CancelledError.
---@async
---@return true
function Event:wait() end

---@class Condition
local Condition = {}
---Raises CancelledError.
---@async
---@return Guard
function Condition:acquire() end
---Raises RuntimeError when not locked.
function Condition:release() end
---@return boolean
function Condition:locked() end
---Raises CancelledError and fn's errors.
---@async
---@param fn function
---@return any ...
function Condition:with(fn, ...) end
---Raises RuntimeError (lock not held), CancelledError.
---@async
---@return true
function Condition:wait() end
---Raises RuntimeError (lock not held), CancelledError.
---@async
---@param predicate fun(): any
---@return any
function Condition:wait_for(predicate) end
---Raises RuntimeError (lock not held).
---@param n? integer
function Condition:notify(n) end
---Raises RuntimeError (lock not held).
function Condition:notify_all() end

---@class Queue
local Queue = {}
---Raises CancelledError.
---@async
---@param v any
function Queue:put(v) end
---Raises CancelledError.
---@async
---@return any
function Queue:get() end
---Raises QueueFull.
---@param v any
function Queue:put_nowait(v) end
---Raises QueueEmpty.
---@return any
function Queue:get_nowait() end
---@return integer
function Queue:size() end
---@return boolean
function Queue:empty() end
---@return boolean
function Queue:full() end
---Raises ValueError when called more times than items were put.
function Queue:task_done() end
---Raises CancelledError.
---@async
function Queue:join() end
---Stops the queue: put raises QueueShutDown; get raises it once empty. immediate: drops the items (counted as done) and wakes every getter.
---@param immediate? boolean
function Queue:shutdown(immediate) end

---@class LifoQueue: Queue A queue whose get returns the item put last.

---@class PriorityQueue A queue whose get returns the lowest priority first, in put order among equals.
local PriorityQueue = {}
---Raises CancelledError, QueueShutDown; argument error for a non-number priority.
---@async
---@param priority number
---@param v any
function PriorityQueue:put(priority, v) end
---Raises CancelledError, QueueShutDown.
---@async
---@return any value
---@return number priority
function PriorityQueue:get() end
---Raises QueueFull, QueueShutDown.
---@param priority number
---@param v any
function PriorityQueue:put_nowait(priority, v) end
---Raises QueueEmpty, QueueShutDown.
---@return any value
---@return number priority
function PriorityQueue:get_nowait() end
---@return integer
function PriorityQueue:size() end
---@return boolean
function PriorityQueue:empty() end
---@return boolean
function PriorityQueue:full() end
---Raises ValueError when called more times than items were put.
function PriorityQueue:task_done() end
---Raises CancelledError.
---@async
function PriorityQueue:join() end
---@param immediate? boolean
function PriorityQueue:shutdown(immediate) end

---@class Barrier
---@field parties integer
local Barrier = {}
---Waits until `parties` tasks wait; returns this task's index 0 .. parties-1. Raises BrokenBarrierError, CancelledError.
---@async
---@return integer
function Barrier:wait() end
---Breaks the current round (its waiters raise BrokenBarrierError); the barrier is whole again.
function Barrier:reset() end
---Breaks the barrier until reset().
function Barrier:abort() end
---@return integer
function Barrier:n_waiting() end
---@return boolean
function Barrier:broken() end

---@class TaskGroup
local TaskGroup = {}
---Starts fn(...) as a child of the group. Raises RuntimeError once the group is done or being cancelled.
---@param fn function
---@return Task
function TaskGroup:spawn(fn, ...) end
---Cancels the body and every child; task_group then returns no values.
function TaskGroup:cancel() end

---@class Stream A TCP connection, or a pipe to a child process (asched.process.spawn).
local Stream = {}
---Read up to n bytes (or what is available); nil at end of stream. Raises CancelledError, RuntimeError (I/O error).
---@async
---@param n? integer
---@return string?
function Stream:read(n) end
---Raises CancelledError, RuntimeError (I/O error).
---@async
---@return string?
function Stream:read_line() end
---Raises CancelledError, RuntimeError (I/O error).
---@async
---@param s string
function Stream:write(s) end
function Stream:close() end

---@class Server A TCP listener.
---@field port integer
local Server = {}
function Server:close() end

---@class Socket A UDP socket (asched.udp.bind). Closes in a <close> variable and at the run's end.
---@field port integer
local Socket = {}
---Sends one datagram; waits until it is handed to the kernel. host: an address or a name. Raises IOError, CancelledError.
---@async
---@param data string
---@param host string
---@param port integer
function Socket:send(data, host, port) end
---The next datagram and its sender, waiting for one if none is queued. Raises IOError (closed socket), CancelledError.
---@async
---@return string data
---@return string host
---@return integer port
function Socket:recv() end
---Closes the socket; a waiting recv() raises IOError. Idempotent.
function Socket:close() end

---@class asched.Stat
---@field size integer
---@field type "file"|"directory"|"link"|"other"
---@field mode integer
---@field mtime number

---@class Process A child process from asched.process.spawn. In a <close> variable it is killed and reaped.
---@field pid integer
---@field stdin Stream? Only when spawned with stdin = "pipe".
---@field stdout Stream? Only when spawned with stdout = "pipe".
---@field stderr Stream? Only when spawned with stderr = "pipe".
local Process = {}
---Waits until the child has exited: its code and nil, or nil and the name of the signal that ended it ("SIGTERM"). Raises CancelledError.
---@async
---@return integer? code
---@return string? signal
function Process:wait() end
---Sends a signal by name (default "SIGTERM"); false when the child had already exited.
---@param signal? string
---@return boolean
function Process:kill(signal) end

---@class asched.ProcessResult
---@field code integer?
---@field signal integer?
---@field stdout string
---@field stderr string

---@class asched.HttpResponse
---@field status integer
---@field headers table<string, string> Lowercased header names.
---@field body string

---@class asched.RunOptions
---@field virtual_time? boolean
---@field seed? integer
---@field debug? boolean
---@field timeline? boolean
---@field trace? boolean

---Run fn as the main task on a loop. Raises RuntimeError if a loop is running, DeadlockError, fn's error.
---@param fn function|asched.RunOptions
---@return any ...
function asched.run(fn, ...) end

---Spawn a task (starts on a later loop step). No errors.
---@param fn function
---@return Task
function asched.spawn(fn, ...) end

---Alias of spawn. No errors.
---@param fn function
---@return Task
function asched.create_task(fn, ...) end

---Wait for a task. Raises the task's error, CancelledError, RuntimeError.
---@async
---@param task Task
---@return any ...
function asched.await(task) end

---@return Task?
function asched.current_task() end

---@return Task[]
function asched.all_tasks() end

---Sleep; raises CancelledError.
---@async
---@param seconds number
---@param value? any
---@return any
function asched.sleep(seconds, value) end

---@return number
function asched.now() end

---Raises the first item error, CancelledError.
---@async
---@param list (Task|function)[]
---@param opts? {return_exceptions: boolean?}
---@return table
function asched.gather(list, opts) end

---Iterator; each call suspends. Raises TimeoutError, CancelledError.
---@param list (Task|function)[]
---@param opts? {timeout: number?}
---@return async fun(): Task
function asched.as_completed(list, opts) end

---Raises CancelledError (never TimeoutError).
---@async
---@param list (Task|function)[]
---@param opts? {timeout: number?, return_when: "all_completed"|"first_completed"|"first_exception"?}
---@return Task[] done
---@return Task[] pending
function asched.wait(list, opts) end

---Raises TimeoutError, CancelledError, the item's error.
---@async
---@param item Task|function
---@param timeout number?
---@return any ...
function asched.wait_for(item, timeout) end

---Raises TimeoutError, CancelledError, fn's error.
---@async
---@param seconds number?
---@param fn function
---@return any ...
function asched.timeout(seconds, fn, ...) end

---Like timeout, with a deadline on the loop clock (asched.now()). Raises TimeoutError, CancelledError, fn's error.
---@async
---@param when number?
---@param fn function
---@return any ...
function asched.timeout_at(when, fn, ...) end

---Gives up on fn after `seconds`: returns true and fn's values, or false. Raises CancelledError (from outside), fn's error.
---@async
---@param seconds number?
---@param fn function
---@return boolean finished
---@return any ...
function asched.move_on_after(seconds, fn, ...) end

---Runs fn(tg, ...) in this task; returns when every child is done. Raises TaskGroupError, CancelledError.
---@async
---@param fn fun(tg: TaskGroup, ...): ...
---@return any ...
function asched.task_group(fn, ...) end

---Raises CancelledError, the item's error.
---@async
---@param item Task|function
---@return any ...
function asched.shield(item) end

---Raises argument error for bad n.
---@param n integer
---@return Semaphore
function asched.semaphore(n) end

---Raises argument error for bad n.
---@param n integer
---@return BoundedSemaphore
function asched.bounded_semaphore(n) end

---@return Lock
function asched.lock() end

---@return Event
function asched.event() end

---@param lock? Lock
---@return Condition
function asched.condition(lock) end

---@param maxsize? integer
---@return Queue
function asched.queue(maxsize) end

---@param maxsize? integer
---@return LifoQueue
function asched.lifo_queue(maxsize) end

---@param maxsize? integer
---@return PriorityQueue
function asched.priority_queue(maxsize) end

---Raises argument error unless parties is a positive integer.
---@param parties integer
---@return Barrier
function asched.barrier(parties) end

---Run fn on the thread pool. Raises CancelledError, fn's error message, argument errors.
---@async
---@param fn function
---@return any ...
function asched.to_thread(fn, ...) end

---Get or set debug mode. No errors.
---@param on? boolean
---@return boolean
function asched.debug(on) end

asched.fs = {}

---Raises RuntimeError (I/O error), CancelledError.
---@async
---@param path string
---@return string
function asched.fs.read_file(path) end

---Raises RuntimeError (I/O error), CancelledError.
---@async
---@param path string
---@param data string
function asched.fs.write_file(path, data) end

---Raises RuntimeError (I/O error), CancelledError.
---@async
---@param path string
---@return asched.Stat
function asched.fs.stat(path) end

---Raises RuntimeError (I/O error), CancelledError.
---@async
---@param path string
---@return string[]
function asched.fs.list_dir(path) end

asched.process = {}

---Run argv (no shell). Raises RuntimeError, TimeoutError, CancelledError.
---@async
---@param argv string[]
---@param opts? {stdin: string?, cwd: string?, env: table?, timeout: number?}
---@return asched.ProcessResult
function asched.process.run(argv, opts) end

---Start argv (no shell) with pipes where asked; returns at once. Raises RuntimeError (IOError) when it cannot be started.
---@param argv string[]
---@param opts? {cwd: string?, env: table?, stdin: "inherit"|"pipe"|"null"?, stdout: "inherit"|"pipe"|"null"?, stderr: "inherit"|"pipe"|"null"?}
---@return Process
function asched.process.spawn(argv, opts) end

asched.signal = {}

---Waits until the signal arrives; one arrival wakes every task waiting for it. While a task waits for "SIGINT", Ctrl-C wakes it instead of cancelling the main task. Raises CancelledError.
---@async
---@param name string "SIGTERM", "SIGINT", "SIGHUP", "SIGUSR1", ...
---@return string name
function asched.signal.wait(name) end

asched.tcp = {}

---@class asched.TlsClient
---@field verify boolean? check the server's certificate and name (default true)
---@field ca string? a PEM file of CAs to trust instead of the system's
---@field server_name string? the name sent (SNI) and checked, instead of host

---@class asched.TlsServer
---@field cert string a PEM certificate chain
---@field key string its private key (PEM)

---Connects; with opts.tls, over TLS (the wait includes the handshake).
---Raises IOError (code "ECONNREFUSED", ...; "EPROTO" when TLS fails:
---"certificate verify failed (...)"), CancelledError.
---@async
---@param host string
---@param port integer
---@param opts? {tls: (boolean|asched.TlsClient)?}
---@return Stream
function asched.tcp.connect(host, port, opts) end

---Raises IOError (bind/listen error; a certificate or key it cannot load).
---@param host string?
---@param port integer
---@param handler async fun(stream: Stream)
---@param opts? {reuseport: boolean?, tls: asched.TlsServer?}
---@return Server
function asched.tcp.listen(host, port, handler, opts) end

asched.udp = {}

---Binds a UDP socket (host nil: 127.0.0.1; port 0: a free one). Raises IOError (bind error).
---@param host string?
---@param port integer
---@return Socket
function asched.udp.bind(host, port) end

asched.dns = {}

---The addresses of host (IPv4 and IPv6 strings, in the resolver's order, each once). Raises IOError (code "EAI_NONAME", ...), CancelledError.
---@async
---@param host string
---@return string[]
function asched.dns.resolve(host) end

asched.http = {}

---Raises RuntimeError, TimeoutError, CancelledError.
---@async
---@param req {method: string?, url: string, headers: table?, body: string?, timeout: number?}
---@return asched.HttpResponse
function asched.http.request(req) end

---Raises RuntimeError, TimeoutError, CancelledError.
---@async
---@param url string
---@param opts? table
---@return asched.HttpResponse
function asched.http.get(url, opts) end

---Raises RuntimeError, TimeoutError, CancelledError.
---@async
---@param url string
---@param body string
---@param opts? table
---@return asched.HttpResponse
function asched.http.post(url, body, opts) end

---@class asched.HttpRequest
---@field method string
---@field path string
---@field query string?
---@field headers table<string, string>
---@field body string

---@class asched.HttpServer
---@field port integer
local HttpServer = {}

---Stops accepting; requests in flight finish. Idempotent.
function HttpServer:close() end

---Serves HTTP/1.1: handler(req) runs in a task per request and returns
---status, body [, headers]. Raises IOError (bind/listen error).
---@param host string?
---@param port integer
---@param handler async fun(req: asched.HttpRequest): integer, (string|number)?, table<string, string>?
---@param opts? {max_body: integer?, timeout: number?, reuseport: boolean?, tls: asched.TlsServer?}
---@return asched.HttpServer
function asched.http.listen(host, port, handler, opts) end

return asched
