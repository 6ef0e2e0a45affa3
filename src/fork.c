/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fork() without exec: every lock of every memory is taken around fork()
 * (pthread_atfork), so a child never inherits a lock that a thread which
 * does not exist in the child holds; liburcu-bp's own fork hooks (its
 * reader registry) run at the right point.  In the child, a memory's
 * resize thread and MAY_BLOCK waiters are gone: the child forgets them
 * (maps that find the pools full use transient pools; deferred frees wait
 * for swiotlb_mem_destroy()).
 *
 * Order in the parent before fork(), reversed after it:
 *   1. liburcu-bp's locks (its grace-period and reader-registry mutexes).
 *      First, because a thread in a grace period (the resize thread)
 *      holds the grace-period mutex while it waits for readers, and a
 *      reader may be waiting for one of our area locks: taking ours first
 *      would deadlock.  No thread holding one of our locks ever waits for
 *      liburcu's (read sections begin before any of our locks are taken,
 *      and nobody waits for a grace period while holding one).
 *   2. the registry of memories, devcount.c's tc_lock (with it, every
 *      run cache is emptied and its owner shut out until after fork:
 *      runcache.c), then per memory: the resize lock, the
 *      memory lock, the lookup writer lock, every area lock of every
 *      published pool, the wait-queue lock, the limbo lock (the order
 *      every other path takes them in).
 */
#include <pthread.h>

#include "internal.h"

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static CDS_LIST_HEAD(registry);

static void mem_lock_all(struct swiotlb_mem *mem)
{
	struct pool *p;

	if (mem->resize.started)
		pthread_mutex_lock(&mem->resize.lock);
	pthread_mutex_lock(&mem->lock);
	pthread_mutex_lock(&mem->lookup.writer);
	cds_list_for_each_entry (p, &mem->lookup.pools, lookup_node)
		for (unsigned i = 0; i < p->nareas; i++)
			spin_lock(&p->areas[i].lock);
	pthread_mutex_lock(&mem->waitq.lock);
	pthread_mutex_lock(&mem->limbo.lock);
}

static void mem_unlock_all(struct swiotlb_mem *mem)
{
	struct pool *p;

	pthread_mutex_unlock(&mem->limbo.lock);
	pthread_mutex_unlock(&mem->waitq.lock);
	cds_list_for_each_entry (p, &mem->lookup.pools, lookup_node)
		for (unsigned i = p->nareas; i-- > 0;)
			spin_unlock(&p->areas[i].lock);
	pthread_mutex_unlock(&mem->lookup.writer);
	pthread_mutex_unlock(&mem->lock);
	if (mem->resize.started)
		pthread_mutex_unlock(&mem->resize.lock);
}

static void fork_prepare(void)
{
	struct swiotlb_mem *mem;

	_swiotlb_rcu_fork_prepare();
	pthread_mutex_lock(&registry_lock);
	_swiotlb_devcount_lock();
	_swiotlb_runcache_fork_prepare(&registry);
	cds_list_for_each_entry (mem, &registry, fork_node)
		mem_lock_all(mem);
}

static void fork_parent(void)
{
	struct swiotlb_mem *mem;

	cds_list_for_each_entry (mem, &registry, fork_node)
		mem_unlock_all(mem);
	_swiotlb_runcache_fork_done(&registry, false);
	_swiotlb_devcount_unlock();
	pthread_mutex_unlock(&registry_lock);
	_swiotlb_rcu_fork_done(false);
}

/* The child: only the forking thread exists.  Forget the resize thread
 * and the waiters (their threads are gone), then unlock. */
static void fork_child(void)
{
	struct swiotlb_mem *mem;

	cds_list_for_each_entry (mem, &registry, fork_node) {
		mem_unlock_all(mem);
		mem->resize.started = false;
		mem->waitq.head = mem->waitq.tail = NULL;
		st_relaxed(&mem->waitq.nwaiters, 0);
	}
	_swiotlb_runcache_fork_done(&registry, true);
	_swiotlb_devcount_unlock();
	pthread_mutex_unlock(&registry_lock);
	_swiotlb_rcu_fork_done(true);
}

static void fork_hooks_register(void)
{
	pthread_atfork(fork_prepare, fork_parent, fork_child);
}

/* Make mem's locks part of the fork protocol (after they are initialised,
 * before anyone else can use mem). */
void _swiotlb_fork_track(struct swiotlb_mem *mem)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, fork_hooks_register);
	pthread_mutex_lock(&registry_lock);
	cds_list_add(&mem->fork_node, &registry);
	pthread_mutex_unlock(&registry_lock);
}

/* Take mem out of the fork protocol (before its locks are destroyed). */
void _swiotlb_fork_untrack(struct swiotlb_mem *mem)
{
	pthread_mutex_lock(&registry_lock);
	cds_list_del(&mem->fork_node);
	pthread_mutex_unlock(&registry_lock);
}
