/* interrupt.h -- Ctrl-C for the asched program: the first SIGINT cancels the
 * main task, a second one exits at once with status 130. */
#ifndef ASCHED_INTERRUPT_H
#define ASCHED_INTERRUPT_H

struct as_loop;

void as__interrupt_start(struct as_loop *loop);
void as__interrupt_stop(struct as_loop *loop);

/* How many SIGINTs arrived since the program started. */
int as_interrupt_count(void);

#endif
