/* fts_rank: comfyd_bm25(), the ranking function of session search on
 * SQLite, an FTS5 auxiliary function registered on each connection.
 *
 * It is Okapi BM25 as FTS5's own bm25() computes it (k1 1.2, b 0.75,
 * IDF log((N - n + 0.5) / (n + 0.5)), at least 1e-6; the score negated so
 * that lower is better; a row's length counts all its columns), scoring
 * the terms found in the first column (the text) only (the others are the
 * search's filters), with one difference that makes a search cost bounded: the number of entries n
 * holding a phrase is counted up to FTS_RANK_DF_CAP. FTS5's bm25() counts
 * every entry of every phrase before it scores the first row, which is
 * most of a search's time for a common word (22,000 of 100,000 messages:
 * 2 ms of 5) however few rows are scored. With the cap, phrases found in
 * more than FTS_RANK_DF_CAP entries count as equally common, which only
 * changes the relative weight of two such common words in one query. */
#ifndef COMFYD_FTS_RANK_H
#define COMFYD_FTS_RANK_H

#include <sqlite3.h>

#define FTS_RANK_DF_CAP 2000
#define FTS_RANK_PHRASES_MAX 64 /* more phrases (ftsq allows 32 terms) count as none */

/* Registers comfyd_bm25 on db's FTS5. Returns SQLITE_OK or an error. */
int fts_rank_register(sqlite3 *db);

#endif
