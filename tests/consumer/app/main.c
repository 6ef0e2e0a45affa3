/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Calls into a shared object that has libswiotlb.a linked in. */
int consumer_run(void);

int main(void)
{
	return consumer_run();
}
