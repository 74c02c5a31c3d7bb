/*
 * The console's command mode (command.h): a line editor on the physical
 * console's input, the line parsed into a control request and run by the
 * management service (hv/control/control.c) as from the console, its
 * response printed by the same code as hvctl's (hv/control/text.c).
 */
#include "hv/console/command.h"
#include "hv/console/console.h"
#include "hv/control/control.h"
#include "hv/control/proto.h"
#include "hv/control/text.h"
#include "hv/lib/lib.h"

#define KEY_BS 0x08
#define KEY_DEL 0x7f
#define KEY_CTRL_C 0x03
#define KEY_ESC 0x1b
#define PROMPT "hv> "
#define RESP_MAX 4096 /* list, stats and info fit */

static const struct {
	const char *word;
	u32 op;
	bool name, force;
} commands[] = {
	{ "list", CTL_OP_LIST, false, false },	   { "info", CTL_OP_INFO, false, false },
	{ "start", CTL_OP_START, true, false },	   { "stop", CTL_OP_STOP, true, true },
	{ "restart", CTL_OP_RESTART, true, true }, { "stats", CTL_OP_STATS, true, false },
};

static const char help_text[] = "commands: list, start NAME, stop NAME [--force], "
				"restart NAME [--force], stats NAME, info, help";

/* The next blank-separated word of *s: its start, and its length in *n. */
static const char *word(const char **s, size_t *n)
{
	const char *w = *s;

	while (*w == ' ' || *w == '\t')
		w++;
	*n = 0;
	while (w[*n] && w[*n] != ' ' && w[*n] != '\t')
		(*n)++;
	*s = w + *n;
	return w;
}

static bool is(const char *w, size_t n, const char *s)
{
	return n == strlen(s) && !memcmp(w, s, n);
}

const char *command_parse(const char *line, struct ctl_request *r, bool *help)
{
	const char *s = line, *w, *name = NULL;
	char name_buf[CTL_NAME_MAX + 1];
	size_t n, nn = 0;
	u32 flags = 0, c;

	*help = false;
	w = word(&s, &n);
	if (!n || is(w, n, "help")) {
		*help = true;
		return NULL;
	}
	for (c = 0; c < ARRAY_SIZE(commands) && !is(w, n, commands[c].word); c++)
		;
	if (c == ARRAY_SIZE(commands))
		return "unknown command (help lists them)";
	while ((w = word(&s, &n)), n) {
		if (commands[c].force && is(w, n, "--force"))
			flags |= CTL_F_FORCE;
		else if (commands[c].name && !name && ctl_name_ok(w, n))
			name = w, nn = n;
		else
			return "unexpected argument (help lists the commands)";
	}
	if (commands[c].name && !name)
		return "a partition name is needed";
	if (name) {
		memcpy(name_buf, name, nn);
		name_buf[nn] = '\0';
	}
	ctl_request_init(r, commands[c].op, name ? name_buf : NULL, flags, 0);
	return NULL;
}

static void say(const char *s)
{
	console_prompt_write(s, strlen(s));
	console_prompt_write("\n", 1);
}

static void say_line(void *ctx, const char *line)
{
	(void)ctx;
	say(line);
}

static void run(const char *line)
{
	static u8 resp[RESP_MAX];
	const struct ctl_response *h = (const void *)resp;
	struct ctl_request r;
	char msg[CTL_LINE_MAX];
	const char *err;
	bool help;
	u32 len;

	err = command_parse(line, &r, &help);
	if (err || help) {
		say(err ? err : help_text);
		return;
	}
	len = ctl_handle(NULL, &r, sizeof(r), resp, sizeof(resp));
	if (h->status != CTL_OK) {
		snprintf(msg, sizeof(msg), "%s%s%s", r.name, r.name[0] ? ": " : "",
			 ctl_status_text(h->status));
		say(msg);
	} else if (r.op == CTL_OP_START || r.op == CTL_OP_RESTART || r.op == CTL_OP_STOP) {
		snprintf(msg, sizeof(msg), "%s: %s", r.name,
			 r.op == CTL_OP_START	? "starting" :
			 r.op == CTL_OP_RESTART ? "restarting" :
			 r.flags		? "stopping" :
						  "stopping (the power button; by force after 30 s)");
		say(msg);
	} else {
		ctl_text(resp, len, say_line, NULL);
	}
}

void command_start(struct command_line *l)
{
	l->open = true;
	l->len = 0;
	console_hold(true);
	console_prompt_write(PROMPT, sizeof(PROMPT) - 1);
}

static void finish(struct command_line *l)
{
	l->open = false;
	l->len = 0;
	console_hold(false);
}

void command_feed(struct command_line *l, u8 byte)
{
	char c = (char)byte;

	if (byte == '\r' || byte == '\n') {
		console_prompt_write("\n", 1);
		l->buf[l->len] = '\0';
		run(l->buf);
		finish(l);
	} else if (byte == KEY_CTRL_C || byte == KEY_ESC) {
		console_prompt_write("\n", 1);
		finish(l);
	} else if (byte == KEY_BS || byte == KEY_DEL) {
		if (l->len) {
			l->len--;
			console_prompt_write("\b \b", 3);
		}
	} else if (byte >= ' ' && byte < KEY_DEL && l->len < COMMAND_LINE_MAX - 1) {
		l->buf[l->len++] = c;
		console_prompt_write(&c, 1);
	}
}
