/*
 * drain.h -- health and draining (drain.c): what /health answers, and
 * pmc drain / undrain.
 */
#ifndef PMCD_DRAIN_H
#define PMCD_DRAIN_H

#include <stdint.h>

struct app;
struct pbuf;

/* Drain app (health 503, instances serving), or undrain it. */
void	 drain_set(struct app *, int on);
/* Drained, and no new connection for quiet_ms. */
int	 drain_quiet(const struct app *, uint64_t quiet_ms);
/* /health (name NULL) or /health/NAME: the status code; one line to body. */
int	 health_text(const char *name, struct pbuf *body);
/* describe's "drained:" line, when it is. */
void	 drain_describe(const struct app *, struct pbuf *);

#endif /* PMCD_DRAIN_H */
