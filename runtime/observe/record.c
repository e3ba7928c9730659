/* record.c -- --record and --replay (see record.h). Owns its recorder: an
 * attachment of the loop that is also its observer and its schedule hook; it
 * names the next task to resume but never resumes one. */
#include "record.h"

#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "describe.h"
#include "task.h"
#include "vec.h"

enum { EV_RESUME, EV_TIMER, EV_IO };

/* One recorded decision, read back for a replay. */
typedef struct event {
  int kind;
  int alarm;          /* EV_TIMER: an alarm's (a timeout), not a task's */
  uint32_t task;      /* the task resumed, woken by the timer, or by the I/O */
  uint64_t timer;     /* EV_TIMER: the timer's sequence number */
  char name[64];      /* the task's name */
  char op[64];        /* EV_IO: what the operation did ("reading a file") */
  char io[16];        /* EV_IO: "io" or "thread" */
} event;

/* What the recorder keeps of a task, by id. */
typedef struct task_note {
  const char *reason; /* why it was last made ready (static) */
  uint32_t by;        /* reason "ready": who woke it */
  const char *waits;  /* its last wait's timeline state (static) */
  char op[64];        /* ... and, for I/O and threads, what it did */
} task_note;

/* Allocated by as__record_attach, freed by its release (the run's end). */
typedef struct recorder {
  as_attachment attachment;
  as_observer observer;
  as_schedule_hook hook;
  FILE *out;            /* --record: the file being written */
  uint64_t step;        /* decisions written or replayed so far */
  task_note *notes;
  size_t notes_capacity;
  /* --replay */
  event *events;
  size_t nevents, events_capacity, next;
  uint32_t *arrived;    /* I/O completions that came before their turn: task ids */
  size_t narrived, arrived_capacity;
  char diverged[256];   /* a divergence seen inside libuv, raised at the next turn */
} recorder;

static const char record_key = 'R';

/* ---- what happened to a task ---- */

static task_note *note_of(recorder *r, const as_task *t) {
  size_t n = r->notes_capacity;
  if (t->id >= n) {
    task_note *grown = as_vec_grow(r->notes, &r->notes_capacity, (size_t)t->id + 1, sizeof *grown);
    if (grown == NULL) return NULL;
    memset(grown + n, 0, (r->notes_capacity - n) * sizeof *grown);
    r->notes = grown;
  }
  return &r->notes[t->id];
}

static int is_io(const char *waits) {
  return waits != NULL && (strcmp(waits, "io") == 0 || strcmp(waits, "thread") == 0);
}

/* ---- writing ---- */

static void write_string(FILE *f, const char *s) {
  fputc('"', f);
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
    else if (c < 0x20) fprintf(f, "\\u%04x", c);
    else fputc(c, f);
  }
  fputc('"', f);
}

/* Writes `"name":"<t's name>"`. */
static void write_name(FILE *f, as_loop *loop, as_task *t) {
  lua_State *L = loop->L;
  as__task_push_pending_name(L, loop, t);
  fputs(",\"name\":", f);
  write_string(f, lua_tostring(L, -1));
  lua_pop(L, 1);
}

/* Pushes where `t` will resume: the line it waits at, or where its function
 * starts when it has not started. */
static void push_where(lua_State *L, as_task *t) {
  lua_Debug ar;
  if (t->state == AS_TASK_NEW && t->co != NULL && lua_gettop(t->co) > t->nvalues) {
    lua_pushvalue(t->co, lua_gettop(t->co) - t->nvalues);
    if (lua_isfunction(t->co, -1)) {
      lua_getinfo(t->co, ">S", &ar);
      if (ar.linedefined == 0) lua_pushfstring(L, "%s (main chunk)", ar.short_src);
      else lua_pushfstring(L, "%s:%d", ar.short_src, ar.linedefined);
      return;
    }
    lua_pop(t->co, 1);
  }
  if (t->co) as__task_push_where(L, t->co);
  else lua_pushliteral(L, "?");
}

static void record_chosen(as_schedule_hook *h, as_loop *loop, as_task *t) {
  recorder *r = as_container_of(h, recorder, hook);
  task_note *note = note_of(r, t);
  const char *reason = note && note->reason ? note->reason : "ready";
  fprintf(r->out, "{\"step\":%llu,\"event\":\"resume\",\"task\":%lu", (unsigned long long)++r->step,
          (unsigned long)t->id);
  write_name(r->out, loop, t);
  fputs(",\"reason\":", r->out);
  write_string(r->out, reason);
  if (note && note->by) fprintf(r->out, ",\"by\":%lu", (unsigned long)note->by);
  push_where(loop->L, t);
  fputs(",\"at\":", r->out);
  write_string(r->out, lua_tostring(loop->L, -1));
  lua_pop(loop->L, 1);
  fputs("}\n", r->out);
}

static int record_may_fire(as_schedule_hook *h, as_loop *loop, const as_timer *timer, as_task *t) {
  recorder *r = as_container_of(h, recorder, hook);
  fprintf(r->out, "{\"step\":%llu,\"event\":\"timer\",\"timer\":%llu", (unsigned long long)++r->step,
          (unsigned long long)timer->seq);
  if (t) {
    fprintf(r->out, ",\"task\":%lu", (unsigned long)t->id);
    write_name(r->out, loop, t);
  } else {
    fputs(",\"alarm\":true", r->out);
  }
  fputs("}\n", r->out);
  return 1;
}

/* ---- replaying ---- */

/* Raises "replay diverged at step K: <fmt...>". */
static void diverge(lua_State *L, recorder *r, const char *fmt, const char *a, const char *b) {
  char what[512];
  snprintf(what, sizeof what, fmt, a, b);
  lua_pushfstring(L, "replay diverged at step %d: %s", (int)(r->next + 1), what);
  lua_error(L);
}

/* Pushes "task-4 (worker)", or "task-4" when that is its name. */
static void push_label(lua_State *L, uint32_t id, const char *name) {
  char plain[32];
  snprintf(plain, sizeof plain, "task-%lu", (unsigned long)id);
  if (name[0] == '\0' || strcmp(name, plain) == 0) lua_pushstring(L, plain);
  else lua_pushfstring(L, "%s (%s)", plain, name);
}

/* Pushes "<before>task-5 (worker)<after> at script.lua:12" for a pending task. */
static void push_task(lua_State *L, as_loop *loop, as_task *t, const char *before, const char *after) {
  as__task_push_pending_name(L, loop, t);
  push_label(L, t->id, lua_tostring(L, -1));
  push_where(L, t);
  lua_pushfstring(L, "%s%s%s at %s", before, lua_tostring(L, -2), after, lua_tostring(L, -1));
  lua_replace(L, -4);
  lua_pop(L, 2);
}

static as_task *ready_task(as_list *n) { return as_container_of(n, as_task, link.waiter.node); }

/* The earliest timer of both wheels, or NULL. */
static as_timer *earliest_timer(as_loop *loop) {
  as_timer *task_timer = as_timer_wheel_min(&loop->timers);
  as_timer *alarm = as_timer_wheel_min(&loop->alarms);
  return alarm && (!task_timer || as_timer_earlier(alarm, task_timer)) ? alarm : task_timer;
}

/* Pushes what the loop would do instead of event `e`: "task-5 (x) at f:3
 * to resume", "the timer of task-2 to fire", or "nothing: ...". */
static void push_instead(lua_State *L, as_loop *loop) {
  as_list *first = as_list_first(&loop->ready.head);
  as_timer *timer = earliest_timer(loop);
  if (first) {
    push_task(L, loop, ready_task(first), "", " to resume");
  } else if (timer && as_timer_wheel_min(&loop->timers) == timer) {
    as_task *t = as_container_of(timer, as_task, link.timer);
    push_task(L, loop, t, "the timer of ", " to fire");
  } else if (timer) {
    lua_pushliteral(L, "a timeout to expire");
  } else {
    lua_pushliteral(L, "no task ready and no timer set");
  }
}

static void push_expected(lua_State *L, const event *e) {
  push_label(L, e->task, e->name);
  if (e->kind == EV_RESUME) {
    lua_pushfstring(L, "%s to resume", lua_tostring(L, -1));
  } else if (e->kind == EV_TIMER && e->alarm) {
    lua_pushliteral(L, "a timeout to expire");
  } else if (e->kind == EV_TIMER) {
    lua_pushfstring(L, "the timer of %s to fire", lua_tostring(L, -1));
  } else {
    lua_pushfstring(L, "the %s completion (%s) that wakes %s", e->io, e->op, lua_tostring(L, -1));
  }
  lua_remove(L, -2);
}

/* Raises "expected <e>, got <what the loop would do>". */
static void diverge_instead(lua_State *L, recorder *r, as_loop *loop, const event *e) {
  if (e) push_expected(L, e);
  else lua_pushliteral(L, "the script to end");
  push_instead(L, loop);
  diverge(L, r, "expected %s, got %s", lua_tostring(L, -2), lua_tostring(L, -1));
}

static int take_arrived(recorder *r, uint32_t id) {
  size_t i;
  for (i = 0; i < r->narrived; i++) {
    if (r->arrived[i] == id) {
      r->arrived[i] = r->arrived[--r->narrived];
      return 1;
    }
  }
  return 0;
}

static as_task *replay_next_ready(as_schedule_hook *h, as_loop *loop) {
  recorder *r = as_container_of(h, recorder, hook);
  lua_State *L = loop->L;
  as_list *n;
  if (r->diverged[0]) diverge(L, r, "%s%s", r->diverged, "");
  for (;;) {
    const event *e = r->next < r->nevents ? &r->events[r->next] : NULL;
    if (e == NULL) {
      if (!as_ready_empty(&loop->ready) || earliest_timer(loop)) diverge_instead(L, r, loop, NULL);
      return NULL;
    }
    switch (e->kind) {
      case EV_RESUME:
        for (n = loop->ready.head.next; n != &loop->ready.head; n = n->next) {
          as_task *t = ready_task(n);
          if (t->id != e->task) continue;
          as__task_push_pending_name(L, loop, t);
          if (strncmp(lua_tostring(L, -1), e->name, sizeof e->name - 1) != 0) {
            push_expected(L, e);
            push_task(L, loop, t, "", " to resume");
            diverge(L, r, "expected %s, got %s", lua_tostring(L, -2), lua_tostring(L, -1));
          }
          lua_pop(L, 1);
          r->next++;
          return t;
        }
        diverge_instead(L, r, loop, e);
        return NULL;
      case EV_TIMER:
        if (earliest_timer(loop) == NULL) diverge_instead(L, r, loop, e);
        return NULL;
      default:
        if (take_arrived(r, e->task)) {
          r->next++;
          continue;
        }
        if (!uv_loop_alive(&loop->uv)) diverge_instead(L, r, loop, e);
        return NULL;
    }
  }
}

static int replay_may_fire(as_schedule_hook *h, as_loop *loop, const as_timer *timer, as_task *t) {
  recorder *r = as_container_of(h, recorder, hook);
  const event *e = r->next < r->nevents ? &r->events[r->next] : NULL;
  if (e == NULL || e->kind != EV_TIMER) return 0;
  if (e->timer != timer->seq || (t ? e->task != t->id : !e->alarm)) {
    lua_State *L = loop->L;
    push_expected(L, e);
    if (t) {
      push_task(L, loop, t, "the timer of ", " to fire");
    } else {
      lua_pushliteral(L, "a timeout to expire");
    }
    diverge(L, r, "expected %s, got %s", lua_tostring(L, -2), lua_tostring(L, -1));
  }
  r->next++;
  return 1;
}

static void replay_finished(as_schedule_hook *h, as_loop *loop) {
  recorder *r = as_container_of(h, recorder, hook);
  if (r->diverged[0]) diverge(loop->L, r, "%s%s", r->diverged, "");
  if (r->next < r->nevents) {
    push_expected(loop->L, &r->events[r->next]);
    diverge(loop->L, r, "expected %s, got the end of the script", lua_tostring(loop->L, -1), "");
  }
}

/* An I/O completion woke `t` in a replay, inside libuv: it counts when the
 * record reaches it; until then the task waits in the ready queue. */
static void replay_arrived(recorder *r, as_task *t, const task_note *note) {
  const event *e = r->next < r->nevents ? &r->events[r->next] : NULL;
  uint32_t *grown;
  if (e && e->kind == EV_IO && e->task == t->id && strcmp(e->op, note->op) == 0) {
    r->next++;
    return;
  }
  grown = as_vec_grow(r->arrived, &r->arrived_capacity, r->narrived + 1, sizeof *grown);
  if (grown == NULL) {
    snprintf(r->diverged, sizeof r->diverged, "not enough memory");
    return;
  }
  r->arrived = grown;
  r->arrived[r->narrived++] = t->id;
}

/* ---- watching tasks ---- */

static void on_state(as_observer *o, as_loop *loop, as_task *t, const char *state) {
  recorder *r = as_container_of(o, recorder, observer);
  task_note *note = note_of(r, t);
  if (note == NULL) return;
  if (strcmp(state, "ready") != 0) {
    if (t->state == AS_TASK_SUSPENDED && t->wait != NULL) {
      note->waits = state;
      note->op[0] = '\0';
      if (is_io(state) && t->wait->type->describe) {
        t->wait->type->describe(loop->L, loop, t);
        snprintf(note->op, sizeof note->op, "%s", lua_tostring(loop->L, -1));
        lua_pop(loop->L, 1);
      }
    }
    return;
  }
  note->reason = as__describe_wake_reason(loop, t, note->waits, &note->by);
  if (strcmp(note->reason, "spawn") == 0) note->by = 0;   /* a record names no spawner */
  if (is_io(note->reason)) {
    if (r->out) {
      fprintf(r->out, "{\"step\":%llu,\"event\":\"%s\",\"op\":", (unsigned long long)++r->step, note->waits);
      write_string(r->out, note->op);
      fprintf(r->out, ",\"task\":%lu", (unsigned long)t->id);
      write_name(r->out, loop, t);
      fputs("}\n", r->out);
    } else {
      replay_arrived(r, t, note);
    }
  }
  note->waits = NULL;
}

static void release(as_attachment *a, lua_State *L, as_loop *loop) {
  recorder *r = as_container_of(a, recorder, attachment);
  (void)L;
  /* The loop is closing: no observer is told anything from here on. */
  if (loop->hook == &r->hook) loop->hook = NULL;
  if (r->out) fclose(r->out);
  free(r->notes);
  free(r->events);
  free(r->arrived);
  free(r);
}

/* ---- reading a record ---- */

/* One line's fields, as far as a record uses them. */
typedef struct fields {
  double asched_record, step, task, timer, by;
  int has_record, has_step, has_task, has_timer, is_virtual, alarm;
  char event[16], name[64], op[64];
} fields;

static const char *skip_space(const char *s) {
  while (*s == ' ' || *s == '\t' || *s == '\r') s++;
  return s;
}

/* Reads a JSON string at `s` (after its quote) into `out` (truncated to
 * `size`); returns the end, or NULL when malformed. */
static const char *read_string(const char *s, char *out, size_t size) {
  size_t n = 0;
  while (*s && *s != '"') {
    char c = *s++;
    if (c == '\\') {
      c = *s++;
      if (c == 'u') {
        if (strlen(s) < 4) return NULL;
        c = (char)strtol((char[]){s[0], s[1], s[2], s[3], 0}, NULL, 16);
        s += 4;
      } else if (c == 'n') {
        c = '\n';
      } else if (c == 't') {
        c = '\t';
      } else if (c != '"' && c != '\\' && c != '/') {
        return NULL;
      }
    }
    if (n + 1 < size) out[n++] = c;
  }
  if (size) out[n] = '\0';
  return *s == '"' ? s + 1 : NULL;
}


/* Copies `text` into `out` (of `size` bytes); 0 when it does not fit: no
 * field the recorder writes is that long, so the line is malformed. */
static int copy_text(char *out, size_t size, const char *text) {
  size_t n = strlen(text);
  if (n >= size) return 0;
  memcpy(out, text, n + 1);
  return 1;
}
/* Parses one line, a flat JSON object; returns 0 when malformed. */
static int parse_line(const char *s, fields *f) {
  memset(f, 0, sizeof *f);
  s = skip_space(s);
  if (*s++ != '{') return 0;
  s = skip_space(s);
  if (*s == '}') return *skip_space(s + 1) == '\0';
  for (;;) {
    char key[32], text[64];
    s = skip_space(s);
    if (*s++ != '"' || (s = read_string(s, key, sizeof key)) == NULL) return 0;
    s = skip_space(s);
    if (*s++ != ':') return 0;
    s = skip_space(s);
    text[0] = '\0';
    if (*s == '"') {
      if ((s = read_string(s + 1, text, sizeof text)) == NULL) return 0;
      if (strcmp(key, "event") == 0 && !copy_text(f->event, sizeof f->event, text)) return 0;
      if (strcmp(key, "name") == 0 && !copy_text(f->name, sizeof f->name, text)) return 0;
      if (strcmp(key, "op") == 0 && !copy_text(f->op, sizeof f->op, text)) return 0;
    } else if (strncmp(s, "true", 4) == 0 || strncmp(s, "false", 5) == 0 || strncmp(s, "null", 4) == 0) {
      int yes = *s == 't';
      s += *s == 'f' ? 5 : 4;
      if (strcmp(key, "virtual") == 0) f->is_virtual = yes;
      else if (strcmp(key, "alarm") == 0) f->alarm = yes;
    } else {
      char *end;
      double v = strtod(s, &end);
      if (end == s) return 0;
      s = end;
      if (strcmp(key, "asched_record") == 0) f->asched_record = v, f->has_record = 1;
      else if (strcmp(key, "step") == 0) f->step = v, f->has_step = 1;
      else if (strcmp(key, "task") == 0) f->task = v, f->has_task = 1;
      else if (strcmp(key, "timer") == 0) f->timer = v, f->has_timer = 1;
      else if (strcmp(key, "by") == 0) f->by = v;
    }
    s = skip_space(s);
    if (*s == '}') return *skip_space(s + 1) == '\0';
    if (*s++ != ',') return 0;
  }
}

/* Turns line `lineno` into the next event; returns an error or NULL. */
static const char *add_event(recorder *r, const fields *f) {
  event *e, *grown;
  if (!f->has_step || (double)(r->nevents + 1) != f->step) return "steps must count 1, 2, 3... in order";
  grown = as_vec_grow(r->events, &r->events_capacity, r->nevents + 1, sizeof *grown);
  if (grown == NULL) return "not enough memory";
  r->events = grown;
  e = &r->events[r->nevents];
  memset(e, 0, sizeof *e);
  e->task = f->has_task ? (uint32_t)f->task : 0;
  snprintf(e->name, sizeof e->name, "%s", f->name);
  if (strcmp(f->event, "resume") == 0) {
    e->kind = EV_RESUME;
    if (!f->has_task) return "a resume needs a \"task\"";
  } else if (strcmp(f->event, "timer") == 0) {
    e->kind = EV_TIMER;
    e->alarm = f->alarm;
    e->timer = (uint64_t)f->timer;
    if (!f->has_timer || (!f->has_task && !f->alarm)) return "a timer needs \"timer\" and \"task\" (or \"alarm\")";
  } else if (strcmp(f->event, "io") == 0 || strcmp(f->event, "thread") == 0) {
    e->kind = EV_IO;
    snprintf(e->io, sizeof e->io, "%s", f->event);
    snprintf(e->op, sizeof e->op, "%s", f->op);
    if (!f->has_task) return "an I/O completion needs a \"task\"";
  } else {
    return "unknown \"event\" (resume, timer, io or thread)";
  }
  r->nevents++;
  return NULL;
}

/* Reads the record at `path` into r->events; raises when it cannot. */
static void read_record(lua_State *L, recorder *r, as_loop *loop, const char *path) {
  FILE *f = fopen(path, "r");
  char line[1024];
  int lineno = 0;
  if (f == NULL) luaL_error(L, "--replay: cannot open %s", path);
  while (fgets(line, sizeof line, f)) {
    fields fl;
    const char *error = NULL;
    size_t len = strlen(line);
    lineno++;
    if (len > 0 && line[len - 1] == '\n') line[--len] = '\0';
    if (len == sizeof line - 2) error = "line too long";
    else if (!parse_line(line, &fl)) error = "not a JSON object";
    else if (lineno == 1 && !(fl.has_record && fl.asched_record == 1))
      error = "not an asched record (the first line must be {\"asched_record\":1,...})";
    else if (lineno == 1 && fl.is_virtual != loop->clock.is_virtual)
      error = fl.is_virtual ? "recorded under --virtual-time: replay it with --virtual-time"
                            : "recorded in real time: replay it without --virtual-time";
    else if (lineno > 1) error = add_event(r, &fl);
    if (error) {
      fclose(f);
      luaL_error(L, "--replay: %s:%d: malformed record: %s", path, lineno, error);
    }
  }
  fclose(f);
  if (lineno == 0) luaL_error(L, "--replay: %s:1: malformed record: the file is empty", path);
}

/* ---- attaching ---- */

void as__record_attach(lua_State *L, as_loop *loop, const char *record, const char *replay,
                       const char *script) {
  int made;
  recorder *r;
  as_attachment *a;
  if (record && replay) luaL_error(L, "--record and --replay cannot be used together");
  a = as__loop_attachment_make(loop, &record_key, sizeof *r, NULL, release, &made);
  if (a == NULL) luaL_error(L, "not enough memory");
  if (!made) return;
  r = as_container_of(a, recorder, attachment);
  r->observer.state = on_state;
  if (replay) {
    r->hook.next_ready = replay_next_ready;
    r->hook.may_fire = replay_may_fire;
    r->hook.finished = replay_finished;
    read_record(L, r, loop, replay);
  } else {
    r->out = fopen(record, "w");
    if (r->out == NULL) luaL_error(L, "--record: cannot write %s", record);
    r->hook.chosen = record_chosen;
    r->hook.may_fire = record_may_fire;
    fputs("{\"asched_record\":1,\"seed\":", r->out);
    if (loop->options.seeded) fprintf(r->out, "%lld", (long long)loop->options.seed);
    else fputs("null", r->out);
    fprintf(r->out, ",\"virtual\":%s,\"script\":", loop->clock.is_virtual ? "true" : "false");
    write_string(r->out, script ? script : "");
    fputs("}\n", r->out);
  }
  as__loop_observe(loop, &r->observer);
  loop->hook = &r->hook;
}
