/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Rendering of struct ioguard_event records as text lines or JSON objects. */
#ifndef IOGUARD_EVENT_H
#define IOGUARD_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <linux/types.h>

#include "errbuf.h"
#include "ioguard/enforce.h"
#include "ioguard/trace.h"
#include "json_writer.h"

/* The op name decision records carry; not an enum ioguard_op. */
#define EVENT_OP_DECISION "decision"

/*
 * struct event_printer - state shared by the lines of one stream.
 * Kernel domain addresses are shown as small ids (1, 2, ...) in order of first sight, so
 * output never carries kernel pointers and stays readable.
 */
struct event_printer;

/* @realtime_offset_ns: CLOCK_REALTIME minus CLOCK_MONOTONIC, to date events. */
struct event_printer *event_printer__new(int64_t realtime_offset_ns);
void event_printer__free(struct event_printer *p);

void event_printer__text_header(FILE *out);
void event_printer__text(struct event_printer *p, FILE *out, const struct ioguard_event *e);
void event_printer__json(struct event_printer *p, struct json_writer *w,
			 const struct ioguard_event *e);

/*
 * Decision records of the enforcement programs (struct ioguard_decision), in the same
 * stream: op "decision", the columns an event has where they apply, then hook,
 * decision, reason and tenant. @tenant is the tenant's name, or NULL when the record
 * names none or its policy is no longer loaded.
 */
void event_printer__decision_text(struct event_printer *p, FILE *out,
				  const struct ioguard_decision *d, const char *tenant);
void event_printer__decision_json(struct event_printer *p, struct json_writer *w,
				  const struct ioguard_decision *d, const char *tenant);

/*
 * struct event_filter - which records a stream shows (ioguard trace --op, --group,
 * --device, --pid). Zero-initialised, it shows everything.
 * @ops:          bit (1 << enum ioguard_op) per op shown, when @ops_set
 * @ops_set:      an --op list was given: only the ops in @ops
 * @decisions_off: decision records are hidden (an --op list without "decision")
 * @group_set:    only records of IOMMU group @group
 * @device:       only records naming this device (canonical "dddd:bb:dd.f"); records
 *                that name no device (maps) are kept when @device_group_set and they
 *                name the device's group @device_group
 * @pid:          only this process (thread group id); 0 for all
 */
struct event_filter {
	__u32 ops;
	bool ops_set;
	bool decisions_off;
	bool group_set;
	__s32 group;
	char device[IOGUARD_DEV_NAME_LEN];
	bool device_group_set;
	__s32 device_group;
	__u32 pid;
};

/*
 * event_filter__parse_ops() - "map,unmap,decision": sets @ops (and whether decisions
 * are shown). Return: 0, or -EINVAL with the unknown name in @eb (-ENOMEM).
 */
int event_filter__parse_ops(struct event_filter *f, const char *list, struct errbuf *eb);
/*
 * event_filter__parse_device() - accepts a PCI address as a policy's `bdf` does
 * (pci_address_parse(): "0000:00:03.0", or "00:03.0" for domain 0000) and stores the
 * kernel's name of it. Return: 0 or -EINVAL (any other text, a device or function out
 * of range, or a name longer than records hold).
 */
int event_filter__parse_device(struct event_filter *f, const char *bdf);
bool event_filter__event(const struct event_filter *f, const struct ioguard_event *e);
bool event_filter__decision(const struct event_filter *f, const struct ioguard_decision *d);

#endif /* IOGUARD_EVENT_H */
