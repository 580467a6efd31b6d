/*
 * bpf.c -- the programs that pick the slot of each new connection
 * (see bpf.h), written here as instructions and loaded with bpf(2): no
 * compiler, no libbpf.
 *
 * eBPF (BPF_PROG_TYPE_SK_REUSEPORT, SELECT_OR_MIGRATE), three maps:
 *	sockarray	REUSEPORT_SOCKARRAY, slot -> socket
 *	state		ARRAY of one u32: the turn counter, which every kind
 *			counts each connection on (bal_connections)
 *	table		ARRAY of one struct table: the turns, or the buckets
 * The program never fails a connection: whatever it cannot decide it
 * leaves to the kernel's hash (SK_PASS without a selection), which is
 * also what moves the connections queued on a closing socket when the
 * program cannot read the client's address (a migration has no packet).
 *
 * A fourth program, attached when an app is deleted (bal_refuse), refuses
 * every new connection and lets the queued ones move on a close.
 *
 * classic BPF (SO_ATTACH_REUSEPORT_CBPF) returns an index into the
 * group; forward jumps only, so a table becomes a tree of comparisons
 * with long jumps (BPF_JA) between its halves.
 */
#include <sys/socket.h>
#include <sys/syscall.h>

#include <linux/bpf.h>
#include <linux/filter.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bpf.h"

#ifndef SO_ATTACH_REUSEPORT_CBPF
#define SO_ATTACH_REUSEPORT_CBPF	51
#endif
#ifndef SO_ATTACH_REUSEPORT_EBPF
#define SO_ATTACH_REUSEPORT_EBPF	52
#endif

/* What the eBPF program reads: n turns, or BAL_BUCKETS buckets. */
struct table {
	uint32_t	 n;		/* turns in use; 0: no choice */
	uint32_t	 pad;
	uint16_t	 slot[BAL_TURNS_MAX];
};

struct balancer {
	enum bal_kind	 kind;
	int		 family;
	int		 ebpf;
	int		 fd;		/* our duplicate of a group socket */
	int		 sockarray, state, table;	/* eBPF maps, or -1 */
	struct table	 t;		/* classic: the last table */
};

/* --- eBPF instructions --------------------------------------------------- */

#define INSN(c, d, s, o, i)	((struct bpf_insn){ .code = (c), \
	.dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) })
#define MOV64_REG(d, s)		INSN(BPF_ALU64 | BPF_MOV | BPF_X, d, s, 0, 0)
#define MOV64_IMM(d, i)		INSN(BPF_ALU64 | BPF_MOV | BPF_K, d, 0, 0, i)
#define MOV32_REG(d, s)		INSN(BPF_ALU | BPF_MOV | BPF_X, d, s, 0, 0)
#define ADD64_IMM(d, i)		INSN(BPF_ALU64 | BPF_ADD | BPF_K, d, 0, 0, i)
#define ADD64_REG(d, s)		INSN(BPF_ALU64 | BPF_ADD | BPF_X, d, s, 0, 0)
#define LSH64_IMM(d, i)		INSN(BPF_ALU64 | BPF_LSH | BPF_K, d, 0, 0, i)
#define RSH32_IMM(d, i)		INSN(BPF_ALU | BPF_RSH | BPF_K, d, 0, 0, i)
#define XOR32_REG(d, s)		INSN(BPF_ALU | BPF_XOR | BPF_X, d, s, 0, 0)
#define MUL32_IMM(d, i)		INSN(BPF_ALU | BPF_MUL | BPF_K, d, 0, 0, i)
#define AND32_IMM(d, i)		INSN(BPF_ALU | BPF_AND | BPF_K, d, 0, 0, i)
#define MOD32_REG(d, s)		INSN(BPF_ALU | BPF_MOD | BPF_X, d, s, 0, 0)
#define BE32(d)			INSN(BPF_ALU | BPF_END | BPF_TO_BE, d, 0, 0, 32)
#define ST_W(d, o, i)		INSN(BPF_ST | BPF_MEM | BPF_W, d, 0, o, i)
#define STX_W(d, s, o)		INSN(BPF_STX | BPF_MEM | BPF_W, d, s, o, 0)
#define LDX_W(d, s, o)		INSN(BPF_LDX | BPF_MEM | BPF_W, d, s, o, 0)
#define LDX_H(d, s, o)		INSN(BPF_LDX | BPF_MEM | BPF_H, d, s, o, 0)
#define LDX_DW(d, s, o)		INSN(BPF_LDX | BPF_MEM | BPF_DW, d, s, o, 0)
#define LD_MAP(d, fd)		INSN(BPF_LD | BPF_DW | BPF_IMM, d, \
	BPF_PSEUDO_MAP_FD, 0, fd), INSN(0, 0, 0, 0, 0)
#define CALL(f)			INSN(BPF_JMP | BPF_CALL, 0, 0, 0, f)
#define JEQ_IMM(d, i, o)	INSN(BPF_JMP | BPF_JEQ | BPF_K, d, 0, o, i)
#define JSLT_IMM(d, i, o)	INSN(BPF_JMP | BPF_JSLT | BPF_K, d, 0, o, i)
#define JGE_IMM(d, i, o)	INSN(BPF_JMP | BPF_JGE | BPF_K, d, 0, o, i)
#define JA(o)			INSN(BPF_JMP | BPF_JA, 0, 0, o, 0)
#define FETCH_ADD_W(d, s, o)	INSN(BPF_STX | BPF_W | BPF_ATOMIC, d, s, o, \
	BPF_ADD | BPF_FETCH)
#define EXIT()			INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

/* murmur3's fmix32 on w-register r, with scratch register t. */
#define FMIX32(r, t) \
	MOV32_REG(t, r), RSH32_IMM(t, 16), XOR32_REG(r, t), \
	MUL32_IMM(r, (int32_t)0x85ebca6bu), \
	MOV32_REG(t, r), RSH32_IMM(t, 13), XOR32_REG(r, t), \
	MUL32_IMM(r, (int32_t)0xc2b2ae35u), \
	MOV32_REG(t, r), RSH32_IMM(t, 16), XOR32_REG(r, t)

static long
sys_bpf(int cmd, union bpf_attr *a)
{
	return (syscall(__NR_bpf, cmd, a, sizeof(*a)));
}

static int
map_create(enum bpf_map_type type, uint32_t ksize, uint32_t vsize,
    uint32_t n)
{
	union bpf_attr	 a;

	memset(&a, 0, sizeof(a));
	a.map_type = type;
	a.key_size = ksize;
	a.value_size = vsize;
	a.max_entries = n;
	return ((int)sys_bpf(BPF_MAP_CREATE, &a));
}

static int
map_update(int fd, const void *key, const void *value)
{
	union bpf_attr	 a;

	memset(&a, 0, sizeof(a));
	a.map_fd = (uint32_t)fd;
	a.key = (uint64_t)(uintptr_t)key;
	a.value = (uint64_t)(uintptr_t)value;
	a.flags = BPF_ANY;
	return ((int)sys_bpf(BPF_MAP_UPDATE_ELEM, &a));
}

static int
map_lookup(int fd, const void *key, void *value)
{
	union bpf_attr	 a;

	memset(&a, 0, sizeof(a));
	a.map_fd = (uint32_t)fd;
	a.key = (uint64_t)(uintptr_t)key;
	a.value = (uint64_t)(uintptr_t)value;
	return ((int)sys_bpf(BPF_MAP_LOOKUP_ELEM, &a));
}

static int
map_delete(int fd, const void *key)
{
	union bpf_attr	 a;

	memset(&a, 0, sizeof(a));
	a.map_fd = (uint32_t)fd;
	a.key = (uint64_t)(uintptr_t)key;
	return ((int)sys_bpf(BPF_MAP_DELETE_ELEM, &a));
}

/* The last line of the verifier's log that says something. */
static void
log_tail(const char *log, char *out, size_t len)
{
	const char	*end = log + strlen(log), *p, *line = NULL;
	size_t		 n = 0;

	*out = '\0';
	while (end > log && end[-1] == '\n')
		end--;
	for (p = end; p > log; p--)
		if (p[-1] == '\n') {
			line = p;
			n = (size_t)(end - p);
			/* "processed N insns" says nothing: one more up */
			if (strncmp(line, "processed ", 10) != 0)
				break;
			end = p - 1;
		}
	if (line == NULL) {
		line = log;
		n = (size_t)(end - log);
	}
	snprintf(out, len, "%.*s", (int)n, line);
}

static int
prog_load(struct bpf_insn *insns, size_t n, char *why, size_t len)
{
	static char	 log[16384];
	char		 tail[256];
	union bpf_attr	 a;
	int		 fd;

	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_SK_REUSEPORT;
	a.expected_attach_type = BPF_SK_REUSEPORT_SELECT_OR_MIGRATE;
	a.insns = (uint64_t)(uintptr_t)insns;
	a.insn_cnt = (uint32_t)n;
	a.license = (uint64_t)(uintptr_t)"GPL";
	log[0] = '\0';
	a.log_buf = (uint64_t)(uintptr_t)log;
	a.log_size = sizeof(log);
	a.log_level = 1;
	if ((fd = (int)sys_bpf(BPF_PROG_LOAD, &a)) != -1)
		return (fd);
	log_tail(log, tail, sizeof(tail));
	if (errno == EPERM)
		snprintf(why, len, "eBPF: %s (needs CAP_BPF or CAP_SYS_ADMIN)",
		    strerror(errno));
	else if (tail[0] != '\0')
		snprintf(why, len, "eBPF: the kernel refused the program: %s: "
		    "%s", strerror(errno), tail);
	else
		snprintf(why, len, "eBPF: %s", strerror(errno));
	return (-1);
}

/* Load a program and attach it to b's group, in place of the last. */
static int
prog_attach(struct balancer *b, struct bpf_insn *p, size_t n, char *why,
    size_t len)
{
	int	 fd;

	if ((fd = prog_load(p, n, why, len)) == -1)
		return (-1);
	if (setsockopt(b->fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_EBPF, &fd,
	    sizeof(fd)) == -1) {
		snprintf(why, len, "eBPF: SO_ATTACH_REUSEPORT_EBPF: %s",
		    strerror(errno));
		close(fd);
		return (-1);
	}
	close(fd);	/* the group holds it now */
	return (0);
}

/* Jumps to "pass", the end, are patched once the end is known. */
#define PASS_MARK	0x7fff

/*
 * The whole program: build()'s prologue, then the choice of slot into
 * the key at fp-4 and bpf_sk_select_reuseport; "pass" at the end.
 */
static int
ebpf_load(struct balancer *b, char *why, size_t len)
{
	struct bpf_insn	 p[256];
	size_t		 n = 0, i;

	p[n++] = MOV64_REG(6, 1);
	/* r0 = &state[0], the counter every kind keeps (bal_connections) */
	p[n++] = ST_W(10, -4, 0);
	p[n++] = MOV64_REG(2, 10);
	p[n++] = ADD64_IMM(2, -4);
	{ struct bpf_insn l[] = { LD_MAP(1, b->state) };
	  memcpy(&p[n], l, sizeof(l)); n += 2; }
	p[n++] = CALL(BPF_FUNC_map_lookup_elem);
	if (b->kind != BAL_TURNS) {
		/* count it: state[0] += 1 */
		p[n++] = JEQ_IMM(0, 0, 2);
		p[n++] = MOV64_IMM(1, 1);
		p[n++] = FETCH_ADD_W(0, 1, 0);
	}
	if (b->kind == BAL_TURNS) {
		/* the turn counter: r7 = &state[0] */
		p[n++] = JEQ_IMM(0, 0, PASS_MARK);
		p[n++] = MOV64_REG(7, 0);
		/* table: r8 = &table[0] */
		p[n++] = MOV64_REG(2, 10);
		p[n++] = ADD64_IMM(2, -4);
		{ struct bpf_insn l[] = { LD_MAP(1, b->table) };
		  memcpy(&p[n], l, sizeof(l)); n += 2; }
		p[n++] = CALL(BPF_FUNC_map_lookup_elem);
		p[n++] = JEQ_IMM(0, 0, PASS_MARK);
		p[n++] = MOV64_REG(8, 0);
		/* k = fetch_add(counter, 1) % n */
		p[n++] = MOV64_IMM(1, 1);
		p[n++] = FETCH_ADD_W(7, 1, 0);
		p[n++] = LDX_W(2, 8, 0);
		p[n++] = JEQ_IMM(2, 0, PASS_MARK);
		p[n++] = MOD32_REG(1, 2);
		p[n++] = JGE_IMM(1, BAL_TURNS_MAX, PASS_MARK);
		/* slot = table->slot[k] */
		p[n++] = LSH64_IMM(1, 1);
		p[n++] = ADD64_REG(1, 8);
		p[n++] = LDX_H(1, 1, (int16_t)offsetof(struct table, slot));
		p[n++] = STX_W(10, 1, -4);
	} else if (b->kind == BAL_STICKY) {
		size_t	 w = b->family == AF_INET6 ? 4 : 1;
		struct bpf_insn f[] = { FMIX32(2, 3) };

		p[n++] = ST_W(10, -8, 0);	/* the hash, built at fp-8 */
		for (i = 0; i < w; i++) {
			p[n++] = MOV64_REG(1, 6);
			p[n++] = MOV64_IMM(2, b->family == AF_INET6 ?
			    8 + 4 * (int)i : 12);
			p[n++] = MOV64_REG(3, 10);
			p[n++] = ADD64_IMM(3, -16);
			p[n++] = MOV64_IMM(4, 4);
			p[n++] = MOV64_IMM(5, BPF_HDR_START_NET);
			p[n++] = CALL(BPF_FUNC_skb_load_bytes_relative);
			p[n++] = JSLT_IMM(0, 0, PASS_MARK);
			p[n++] = LDX_W(2, 10, -16);
			p[n++] = BE32(2);
			p[n++] = LDX_W(3, 10, -8);
			p[n++] = XOR32_REG(2, 3);
			memcpy(&p[n], f, sizeof(f));
			n += sizeof(f) / sizeof(f[0]);
			p[n++] = STX_W(10, 2, -8);
		}
		/* r8 = &table[0]; slot = table->slot[hash % BUCKETS] */
		p[n++] = ST_W(10, -4, 0);
		p[n++] = MOV64_REG(2, 10);
		p[n++] = ADD64_IMM(2, -4);
		{ struct bpf_insn l[] = { LD_MAP(1, b->table) };
		  memcpy(&p[n], l, sizeof(l)); n += 2; }
		p[n++] = CALL(BPF_FUNC_map_lookup_elem);
		p[n++] = JEQ_IMM(0, 0, PASS_MARK);
		p[n++] = LDX_W(1, 10, -8);
		p[n++] = AND32_IMM(1, BAL_BUCKETS - 1);
		p[n++] = LSH64_IMM(1, 1);
		p[n++] = ADD64_REG(1, 0);
		p[n++] = LDX_H(1, 1, (int16_t)offsetof(struct table, slot));
		p[n++] = STX_W(10, 1, -4);
	}
	if (b->kind != BAL_HASH) {
		p[n++] = MOV64_REG(1, 6);
		{ struct bpf_insn l[] = { LD_MAP(2, b->sockarray) };
		  memcpy(&p[n], l, sizeof(l)); n += 2; }
		p[n++] = MOV64_REG(3, 10);
		p[n++] = ADD64_IMM(3, -4);
		p[n++] = MOV64_IMM(4, 0);
		p[n++] = CALL(BPF_FUNC_sk_select_reuseport);
	}
	/* pass: the kernel takes what was selected, or hashes */
	for (i = 0; i < n; i++)
		if (BPF_CLASS(p[i].code) == BPF_JMP &&
		    BPF_OP(p[i].code) != BPF_CALL && p[i].off == PASS_MARK)
			p[i].off = (int16_t)(n - i - 1);
	p[n++] = MOV64_IMM(0, SK_PASS);
	p[n++] = EXIT();
	return (prog_attach(b, p, n, why, len));
}

/*
 * The program of a group that takes no new connection: a SYN is refused
 * (the kernel answers it with a reset, as a closed port does), while a
 * connection moved off a closing socket (migrating_sk set) is left to
 * the kernel's hash over the sockets that remain.
 */
static int
refuse_load(struct balancer *b, char *why, size_t len)
{
	struct bpf_insn	 p[] = {
		LDX_DW(2, 1, (int16_t)offsetof(struct sk_reuseport_md,
		    migrating_sk)),
		MOV64_IMM(0, SK_DROP),
		JEQ_IMM(2, 0, 1),
		MOV64_IMM(0, SK_PASS),
		EXIT(),
	};

	return (prog_attach(b, p, sizeof(p) / sizeof(p[0]), why, len));
}

static void
maps_close(struct balancer *b)
{
	if (b->sockarray != -1)
		close(b->sockarray);
	if (b->state != -1)
		close(b->state);
	if (b->table != -1)
		close(b->table);
	b->sockarray = b->state = b->table = -1;
}

static int
ebpf_open(struct balancer *b, char *why, size_t len)
{
	if (b->kind != BAL_HASH) {
		b->sockarray = map_create(BPF_MAP_TYPE_REUSEPORT_SOCKARRAY,
		    sizeof(uint32_t), sizeof(uint64_t), BAL_SLOTS_MAX);
		b->table = map_create(BPF_MAP_TYPE_ARRAY, sizeof(uint32_t),
		    sizeof(struct table), 1);
		if (b->sockarray == -1 || b->table == -1)
			goto fail;
	}
	if ((b->state = map_create(BPF_MAP_TYPE_ARRAY, sizeof(uint32_t),
	    sizeof(uint32_t), 1)) == -1)
		goto fail;
	if (ebpf_load(b, why, len) == -1) {
		maps_close(b);
		return (-1);
	}
	b->ebpf = 1;
	return (0);
fail:
	if (errno == EPERM)
		snprintf(why, len, "eBPF: %s (needs CAP_BPF or CAP_SYS_ADMIN)",
		    strerror(errno));
	else
		snprintf(why, len, "eBPF: map: %s", strerror(errno));
	maps_close(b);
	return (-1);
}

/* --- classic BPF ------------------------------------------------------------- */

#define CB_MAX	BPF_MAXINSNS

struct cprog {
	struct sock_filter	 f[CB_MAX];
	size_t			 n;
	int			 overflow;
};

static void
cemit(struct cprog *c, uint16_t code, uint8_t jt, uint8_t jf, uint32_t k)
{
	if (c->n >= CB_MAX) {
		c->overflow = 1;
		return;
	}
	c->f[c->n++] = (struct sock_filter){ code, jt, jf, k };
}

/* A ^= A >> sh, through M[0] and X. */
static void
cxorshift(struct cprog *c, uint32_t sh)
{
	cemit(c, BPF_ST, 0, 0, 0);
	cemit(c, BPF_ALU | BPF_RSH | BPF_K, 0, 0, sh);
	cemit(c, BPF_MISC | BPF_TAX, 0, 0, 0);
	cemit(c, BPF_LD | BPF_MEM, 0, 0, 0);
	cemit(c, BPF_ALU | BPF_XOR | BPF_X, 0, 0, 0);
}

static void
cfmix(struct cprog *c)
{
	cxorshift(c, 16);
	cemit(c, BPF_ALU | BPF_MUL | BPF_K, 0, 0, 0x85ebca6bu);
	cxorshift(c, 13);
	cemit(c, BPF_ALU | BPF_MUL | BPF_K, 0, 0, 0xc2b2ae35u);
	cxorshift(c, 16);
}

/*
 * A holds a key in [0, end[nr - 1]); range r is [end[r - 1], end[r])
 * and returns slot[r].  A tree of "jge" with long jumps to the upper
 * half, forward only as classic BPF wants.
 */
static void
ctree(struct cprog *c, const uint32_t *end, const uint16_t *slot,
    size_t lo, size_t hi)
{
	size_t	 mid, ja;

	if (hi - lo == 1) {
		cemit(c, BPF_RET | BPF_K, 0, 0, slot[lo]);
		return;
	}
	mid = lo + (hi - lo) / 2;
	/* A >= end[mid - 1] (the upper half's start): the ja; else skip */
	cemit(c, BPF_JMP | BPF_JGE | BPF_K, 0, 1, end[mid - 1]);
	ja = c->n;
	cemit(c, BPF_JMP | BPF_JA, 0, 0, 0);
	ctree(c, end, slot, lo, mid);
	if (ja < CB_MAX)
		c->f[ja].k = (uint32_t)(c->n - ja - 1);
	ctree(c, end, slot, mid, hi);
}

/*
 * The classic program of b's table: a key into A (a random turn, or the
 * client's bucket), then the tree of its ranges.
 */
static int
classic_attach(struct balancer *b, char *why, size_t len)
{
	static struct cprog	 c;
	static uint32_t		 end[BAL_TURNS_MAX];
	static uint16_t		 slot[BAL_TURNS_MAX];
	struct sock_fprog	 fp;
	uint32_t		 count[BAL_SLOTS_MAX], total = 0, i, w;
	size_t			 nr = 0;

	memset(&c, 0, sizeof(c));
	if (b->kind == BAL_TURNS) {
		if (b->t.n == 0)
			goto none;
		/* One range per slot, as wide as its turns. */
		memset(count, 0, sizeof(count));
		for (i = 0; i < b->t.n; i++)
			count[b->t.slot[i] % BAL_SLOTS_MAX]++;
		for (i = 0; i < BAL_SLOTS_MAX; i++)
			if (count[i] > 0) {
				total += count[i];
				end[nr] = total;
				slot[nr++] = (uint16_t)i;
			}
		cemit(&c, BPF_LD | BPF_W | BPF_ABS, 0, 0,
		    (uint32_t)(SKF_AD_OFF + SKF_AD_RANDOM));
		cemit(&c, BPF_ALU | BPF_MOD | BPF_K, 0, 0, total);
	} else {
		for (i = 0; i < BAL_BUCKETS; i++) {
			if (nr > 0 && slot[nr - 1] == b->t.slot[i]) {
				end[nr - 1] = i + 1;
				continue;
			}
			end[nr] = i + 1;
			slot[nr++] = b->t.slot[i];
		}
		/* h = 0; for each word: h = fmix32(h ^ word); M[1] = h */
		w = b->family == AF_INET6 ? 4 : 1;
		cemit(&c, BPF_LD | BPF_IMM, 0, 0, 0);
		cemit(&c, BPF_ST, 0, 0, 1);
		for (i = 0; i < w; i++) {
			cemit(&c, BPF_LDX | BPF_MEM, 0, 0, 1);
			cemit(&c, BPF_LD | BPF_W | BPF_ABS, 0, 0,
			    (uint32_t)(SKF_NET_OFF + (b->family == AF_INET6 ?
			    8 + 4 * (int)i : 12)));
			cemit(&c, BPF_ALU | BPF_XOR | BPF_X, 0, 0, 0);
			cfmix(&c);
			cemit(&c, BPF_ST, 0, 0, 1);
		}
		cemit(&c, BPF_ALU | BPF_AND | BPF_K, 0, 0, BAL_BUCKETS - 1);
	}
	ctree(&c, end, slot, 0, nr);
	if (c.overflow) {
		snprintf(why, len, "classic BPF: the program would be longer "
		    "than %d instructions", CB_MAX);
		return (-1);
	}
	goto attach;
none:
	/* No choice: an index past the group, so the kernel hashes. */
	cemit(&c, BPF_RET | BPF_K, 0, 0, 0xffffffffu);
attach:
	fp.len = (unsigned short)c.n;
	fp.filter = c.f;
	if (setsockopt(b->fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &fp,
	    sizeof(fp)) == -1) {
		snprintf(why, len, "classic BPF: SO_ATTACH_REUSEPORT_CBPF: %s",
		    strerror(errno));
		return (-1);
	}
	return (0);
}

/* --- the interface -------------------------------------------------------------- */

struct balancer *
bal_open(enum bal_kind kind, int fd, int family, int classic, char *why,
    size_t len)
{
	struct balancer	*b;
	char		 cwhy[256];
	size_t		 i;

	if ((b = calloc(1, sizeof(*b))) == NULL) {
		snprintf(why, len, "%s", strerror(errno));
		return (NULL);
	}
	b->kind = kind;
	b->family = family;
	b->sockarray = b->state = b->table = -1;
	if ((b->fd = fcntl(fd, F_DUPFD_CLOEXEC, 3)) == -1) {
		snprintf(why, len, "dup: %s", strerror(errno));
		free(b);
		return (NULL);
	}
	if (classic)
		snprintf(why, len, "eBPF: not tried (classic asked for)");
	else if (ebpf_open(b, why, len) == 0)
		return (b);
	if (kind == BAL_HASH) {
		bal_close(b);
		return (NULL);
	}
	/* Until told otherwise: every slot its turn, bucket by bucket. */
	for (i = 0; i < BAL_BUCKETS; i++)
		b->t.slot[i] = 0;
	b->t.n = 0;
	if (classic_attach(b, cwhy, sizeof(cwhy)) == -1) {
		snprintf(why + strlen(why), len - strlen(why), "; %s", cwhy);
		bal_close(b);
		return (NULL);
	}
	return (b);
}

int
bal_is_ebpf(const struct balancer *b)
{
	return (b->ebpf);
}

const char *
bal_engine(const struct balancer *b)
{
	return (b->ebpf ? "ebpf" : "classic");
}

int
bal_refuse(struct balancer *b, char *why, size_t len)
{
	if (!b->ebpf) {
		snprintf(why, len, "classic BPF cannot refuse a connection");
		return (-1);
	}
	return (refuse_load(b, why, len));
}

int
bal_set_socket(struct balancer *b, int slot, int fd, char *why, size_t len)
{
	uint32_t	 key = (uint32_t)slot;
	uint64_t	 value = (uint64_t)fd;

	if (slot < 0 || slot >= BAL_SLOTS_MAX) {
		snprintf(why, len, "slot %d out of range", slot);
		return (-1);
	}
	if (!b->ebpf || b->sockarray == -1)
		return (0);
	if (fd == -1) {
		if (map_delete(b->sockarray, &key) == -1 && errno != ENOENT) {
			snprintf(why, len, "sockarray: %s", strerror(errno));
			return (-1);
		}
		return (0);
	}
	if (map_update(b->sockarray, &key, &value) == -1) {
		snprintf(why, len, "sockarray: %s", strerror(errno));
		return (-1);
	}
	return (0);
}

static int
table_write(struct balancer *b, char *why, size_t len)
{
	uint32_t	 key = 0;

	if (!b->ebpf)
		return (classic_attach(b, why, len));
	if (map_update(b->table, &key, &b->t) == -1) {
		snprintf(why, len, "table: %s", strerror(errno));
		return (-1);
	}
	return (0);
}

int
bal_set_turns(struct balancer *b, const uint16_t *slots, size_t n,
    char *why, size_t len)
{
	if (b->kind != BAL_TURNS || n > BAL_TURNS_MAX) {
		snprintf(why, len, "turns: not a round-robin balancer, or "
		    "%zu turns", n);
		return (-1);
	}
	memcpy(b->t.slot, slots, n * sizeof(*slots));
	b->t.n = (uint32_t)n;
	return (table_write(b, why, len));
}

int
bal_set_buckets(struct balancer *b, const uint16_t *slots, char *why,
    size_t len)
{
	if (b->kind != BAL_STICKY) {
		snprintf(why, len, "buckets: not a sticky balancer");
		return (-1);
	}
	memcpy(b->t.slot, slots, BAL_BUCKETS * sizeof(*slots));
	b->t.n = BAL_BUCKETS;
	return (table_write(b, why, len));
}

static uint32_t
fmix32(uint32_t h)
{
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return (h);
}

unsigned int
bal_bucket(const void *addr, size_t len)
{
	const unsigned char	*p = addr;
	uint32_t		 h = 0, w;
	size_t			 i;

	for (i = 0; i + 4 <= len; i += 4) {
		memcpy(&w, p + i, 4);
		h = fmix32(h ^ ntohl(w));
	}
	return (h % BAL_BUCKETS);
}

void
bal_close(struct balancer *b)
{
	if (b == NULL)
		return;
	maps_close(b);
	if (b->fd != -1)
		close(b->fd);
	free(b);
}

int
bal_connections(const struct balancer *b, uint32_t *count)
{
	uint32_t	 key = 0;

	if (!b->ebpf || b->state == -1)
		return (-1);
	return (map_lookup(b->state, &key, count));
}
