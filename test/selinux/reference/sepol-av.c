/*
 * sepol-av: libsepol as the reference oracle for virt-seclabel's SELinux engine.
 *
 * Loads one binary policy with libsepol and answers access questions with sepol_compute_av_reason,
 * the same computation the kernel does (TE + conditional rules, constraints incl. MLS, RBAC, typebounds).
 * Linked statically against libsepol.a because sepol_set_policydb, sepol_set_sidtab and evaluate_conds
 * are not exported by libsepol.so (audit2why is built the same way).
 *
 * Usage:
 *   sepol-av POLICY                 answer queries read from stdin, one per line
 *   sepol-av POLICY --list WHAT     dump names: types attributes aliases classes booleans roles users
 *                                   permissive bounds mls sensitivities categories
 *   -l as a last argument flushes after every answer (for an interactive pipe).
 *
 * Query line (tab-separated; the 5th field is optional):
 *   SCONTEXT \t TCONTEXT \t CLASS \t PERM[,PERM...] \t [BOOL=0|1[,BOOL=0|1...]]
 * Answer line, one per query line, in order:
 *   ok \t BITS \t REASONS \t PERMISSIVE
 *       BITS: one 0/1 per requested permission, in request order (1 = in avd.allowed)
 *       REASONS: comma list of te,cons,rbac,bounds (libsepol's SEPOL_COMPUTEAV_* flags) or "-"
 *       PERMISSIVE: 1 when the source type is in the policy's permissive map
 *   error \t FIELD \t MESSAGE       FIELD is format|scontext|tcontext|class|perm|boolean|compute
 * Booleans not named on a line take the policy file's stored defaults, so lines are independent.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sepol/debug.h>
#include <sepol/policydb/conditional.h>
#include <sepol/policydb/ebitmap.h>
#include <sepol/policydb/hashtab.h>
#include <sepol/policydb/policydb.h>
#include <sepol/policydb/services.h>
#include <sepol/policydb/sidtab.h>

#define MAX_PERMS 64

static policydb_t pdb;
static sidtab_t sids;
static int *default_state; /* boolean values stored in the policy file, by value - 1 */
static int *current_state; /* what the policydb's conditional lists were last evaluated with */

static void die(const char *what)
{
	fprintf(stderr, "sepol-av: %s\n", what);
	exit(2);
}

static void load(const char *path)
{
	FILE *fp = fopen(path, "rb");
	if (!fp) {
		fprintf(stderr, "sepol-av: %s: %s\n", path, strerror(errno));
		exit(2);
	}
	struct policy_file pf;
	policy_file_init(&pf);
	pf.type = PF_USE_STDIO;
	pf.fp = fp;
	if (policydb_init(&pdb))
		die("out of memory");
	if (policydb_read(&pdb, &pf, 0))
		die("libsepol cannot read this policy");
	fclose(fp);
	if (pdb.policy_type != POLICY_KERN)
		die("not a kernel (binary) policy");
	sepol_set_policydb(&pdb);
	if (sepol_sidtab_init(&sids))
		die("out of memory");
	sepol_set_sidtab(&sids);

	uint32_t n = pdb.p_bools.nprim;
	default_state = calloc(n + 1, sizeof(int));
	current_state = calloc(n + 1, sizeof(int));
	if (!default_state || !current_state)
		die("out of memory");
	for (uint32_t i = 0; i < n; i++)
		default_state[i] = current_state[i] = pdb.bool_val_to_struct[i]->state ? 1 : 0;
}

/* Splits s at the next `sep` (in place); returns the rest or NULL when there is none. */
static char *cut(char *s, char sep)
{
	char *p = strchr(s, sep);
	if (!p)
		return NULL;
	*p = '\0';
	return p + 1;
}

static void answer_error(const char *field, const char *msg, const char *what)
{
	printf("error\t%s\t%s%s%s\n", field, msg, what ? ": " : "", what ? what : "");
}

/* Applies the line's boolean overrides on top of the defaults; re-evaluates only when something changed. */
static int set_booleans(char *spec)
{
	uint32_t n = pdb.p_bools.nprim;
	int *want = malloc((n + 1) * sizeof(int));
	if (!want)
		die("out of memory");
	memcpy(want, default_state, (n + 1) * sizeof(int));
	for (char *item = spec; item && *item;) {
		char *next = cut(item, ',');
		char *value = cut(item, '=');
		cond_bool_datum_t *b = hashtab_search(pdb.p_bools.table, item);
		if (!b) {
			answer_error("boolean", "unknown boolean", item);
			free(want);
			return -1;
		}
		if (!value || (strcmp(value, "0") && strcmp(value, "1"))) {
			answer_error("boolean", "value must be 0 or 1", item);
			free(want);
			return -1;
		}
		want[b->s.value - 1] = value[0] == '1';
		item = next;
	}
	if (memcmp(want, current_state, n * sizeof(int))) {
		for (uint32_t i = 0; i < n; i++)
			pdb.bool_val_to_struct[i]->state = want[i];
		if (evaluate_conds(&pdb))
			die("evaluate_conds failed");
		memcpy(current_state, want, n * sizeof(int));
	}
	free(want);
	return 0;
}

static void query(char *line)
{
	char *scon = line;
	char *tcon = cut(scon, '\t');
	char *cls = tcon ? cut(tcon, '\t') : NULL;
	char *perms = cls ? cut(cls, '\t') : NULL;
	if (!perms) {
		answer_error("format", "expected SCONTEXT\\tTCONTEXT\\tCLASS\\tPERMS[\\tBOOLS]", NULL);
		return;
	}
	char *bools = cut(perms, '\t');

	if (set_booleans(bools) < 0)
		return;

	sepol_security_id_t ssid, tsid;
	if (sepol_context_to_sid(scon, strlen(scon) + 1, &ssid) < 0) {
		answer_error("scontext", "invalid context", scon);
		return;
	}
	if (sepol_context_to_sid(tcon, strlen(tcon) + 1, &tsid) < 0) {
		answer_error("tcontext", "invalid context", tcon);
		return;
	}
	sepol_security_class_t tclass;
	if (sepol_string_to_security_class(cls, &tclass) < 0) {
		answer_error("class", "unknown class", cls);
		return;
	}
	sepol_access_vector_t bit[MAX_PERMS], requested = 0;
	int count = 0;
	for (char *p = perms; p;) {
		char *next = cut(p, ',');
		if (count == MAX_PERMS) {
			answer_error("perm", "too many permissions", NULL);
			return;
		}
		if (sepol_string_to_av_perm(tclass, p, &bit[count]) < 0) {
			answer_error("perm", "unknown permission", p);
			return;
		}
		requested |= bit[count++];
		p = next;
	}

	struct sepol_av_decision avd;
	unsigned int reason = 0;
	if (sepol_compute_av_reason(ssid, tsid, tclass, requested, &avd, &reason) < 0) {
		answer_error("compute", "sepol_compute_av_reason failed", NULL);
		return;
	}
	char bits[MAX_PERMS + 1];
	for (int i = 0; i < count; i++)
		bits[i] = (avd.allowed & bit[i]) ? '1' : '0';
	bits[count] = '\0';

	char reasons[64] = "";
	if (reason & SEPOL_COMPUTEAV_TE)
		strcat(reasons, ",te");
	if (reason & SEPOL_COMPUTEAV_CONS)
		strcat(reasons, ",cons");
	if (reason & SEPOL_COMPUTEAV_RBAC)
		strcat(reasons, ",rbac");
	if (reason & SEPOL_COMPUTEAV_BOUNDS)
		strcat(reasons, ",bounds");

	/* The sid's context is what libsepol resolved (aliases included), so ask it for the type. */
	context_struct_t *sctx = sepol_sidtab_search(&sids, ssid);
	int permissive = sctx && ebitmap_get_bit(&pdb.permissive_map, sctx->type);
	printf("ok\t%s\t%s\t%d\n", bits, reasons[0] ? reasons + 1 : "-", permissive);
}

/* ---- --list: names the differential test builds its queries from ---- */

static void print_bitmap_names(const ebitmap_t *map, char **names)
{
	ebitmap_node_t *node;
	unsigned int i;
	int first = 1;
	ebitmap_for_each_positive_bit(map, node, i) {
		if (names[i]) {
			printf("%s%s", first ? "" : ",", names[i]);
			first = 0;
		}
	}
}

static int print_alias(hashtab_key_t key, hashtab_datum_t datum, void *arg)
{
	type_datum_t *t = datum;
	(void)arg;
	const char *primary = pdb.p_type_val_to_name[t->s.value - 1];
	if (t->flavor != TYPE_ATTRIB && primary && strcmp(primary, key))
		printf("%s\t%s\n", (char *)key, primary);
	return 0;
}

static int collect_perm(hashtab_key_t key, hashtab_datum_t datum, void *arg)
{
	char **by_value = arg;
	perm_datum_t *p = datum;
	if (p->s.value >= 1 && p->s.value <= 32)
		by_value[p->s.value - 1] = key;
	return 0;
}

static void list(const char *what)
{
	if (!strcmp(what, "mls")) {
		printf("%d\n", pdb.mls ? 1 : 0);
	} else if (!strcmp(what, "types") || !strcmp(what, "attributes")) {
		int want = !strcmp(what, "types") ? TYPE_TYPE : TYPE_ATTRIB;
		for (uint32_t i = 0; i < pdb.p_types.nprim; i++) {
			type_datum_t *t = pdb.type_val_to_struct[i];
			if (t && pdb.p_type_val_to_name[i] && (int)t->flavor == want)
				printf("%s\n", pdb.p_type_val_to_name[i]);
		}
	} else if (!strcmp(what, "aliases")) {
		hashtab_map(pdb.p_types.table, print_alias, NULL);
	} else if (!strcmp(what, "permissive")) {
		/* Unlike most bitmaps, permissive_map is indexed by type value, not value - 1. */
		for (uint32_t v = 1; v <= pdb.p_types.nprim; v++)
			if (ebitmap_get_bit(&pdb.permissive_map, v))
				printf("%s\n", pdb.p_type_val_to_name[v - 1]);
	} else if (!strcmp(what, "bounds")) {
		for (uint32_t i = 0; i < pdb.p_types.nprim; i++) {
			type_datum_t *t = pdb.type_val_to_struct[i];
			if (t && t->bounds)
				printf("%s\t%s\n", pdb.p_type_val_to_name[i], pdb.p_type_val_to_name[t->bounds - 1]);
		}
	} else if (!strcmp(what, "classes")) {
		for (uint32_t i = 0; i < pdb.p_classes.nprim; i++) {
			class_datum_t *c = pdb.class_val_to_struct[i];
			if (!c)
				continue;
			char *by_value[32] = { 0 };
			if (c->comdatum)
				hashtab_map(c->comdatum->permissions.table, collect_perm, by_value);
			hashtab_map(c->permissions.table, collect_perm, by_value);
			printf("%s\t", pdb.p_class_val_to_name[i]);
			int first = 1;
			for (int v = 0; v < 32; v++) {
				if (by_value[v]) {
					printf("%s%s", first ? "" : ",", by_value[v]);
					first = 0;
				}
			}
			printf("\n");
		}
	} else if (!strcmp(what, "booleans")) {
		for (uint32_t i = 0; i < pdb.p_bools.nprim; i++)
			printf("%s\t%d\n", pdb.p_bool_val_to_name[i], default_state[i]);
	} else if (!strcmp(what, "roles")) {
		for (uint32_t i = 0; i < pdb.p_roles.nprim; i++) {
			printf("%s\t", pdb.p_role_val_to_name[i]);
			print_bitmap_names(&pdb.role_val_to_struct[i]->types.types, pdb.p_type_val_to_name);
			printf("\n");
		}
	} else if (!strcmp(what, "users")) {
		for (uint32_t i = 0; i < pdb.p_users.nprim; i++) {
			printf("%s\t", pdb.p_user_val_to_name[i]);
			print_bitmap_names(&pdb.user_val_to_struct[i]->roles.roles, pdb.p_role_val_to_name);
			printf("\n");
		}
	} else if (!strcmp(what, "sensitivities")) {
		/* In dominance order (s0 lowest), each with how many categories it may carry. */
		for (uint32_t i = 0; i < pdb.p_levels.nprim; i++) {
			if (!pdb.p_sens_val_to_name[i])
				continue; /* a value slot only an alias maps to */
			level_datum_t *l = hashtab_search(pdb.p_levels.table, pdb.p_sens_val_to_name[i]);
			printf("%s\t%u\n", pdb.p_sens_val_to_name[i], l && l->level ? ebitmap_cardinality(&l->level->cat) : 0);
		}
	} else if (!strcmp(what, "categories")) {
		for (uint32_t i = 0; i < pdb.p_cats.nprim; i++)
			if (pdb.p_cat_val_to_name[i])
				printf("%s\n", pdb.p_cat_val_to_name[i]);
	} else {
		die("unknown --list target");
	}
}

int main(int argc, char **argv)
{
	if (argc < 2)
		die("usage: sepol-av POLICY [--list WHAT] [-l]");
	sepol_debug(0); /* libsepol's own messages would interleave with the answers on stderr */
	load(argv[1]);
	if (argc >= 4 && !strcmp(argv[2], "--list")) {
		list(argv[3]);
		return 0;
	}
	int line_buffered = argc >= 3 && !strcmp(argv[argc - 1], "-l");

	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	while ((len = getline(&line, &cap, stdin)) >= 0) {
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		query(line);
		/* libsepol's sidtab finds an existing context by scanning every entry, so a sidtab holding
		 * every context seen so far makes a long run quadratic. Lines are independent: start afresh. */
		sepol_sidtab_destroy(&sids);
		if (sepol_sidtab_init(&sids))
			die("out of memory");
		if (line_buffered)
			fflush(stdout);
	}
	free(line);
	return 0;
}
