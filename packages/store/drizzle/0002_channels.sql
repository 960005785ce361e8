CREATE TABLE `channel_cursors` (
	`channel` text PRIMARY KEY NOT NULL,
	`value` text NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `channel_refs` (
	`id` text PRIMARY KEY NOT NULL,
	`channel` text NOT NULL,
	`chat_id` text NOT NULL,
	`message_id` integer NOT NULL,
	`job_id` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `channel_refs_message` ON `channel_refs` (`channel`,`chat_id`,`message_id`);--> statement-breakpoint
CREATE INDEX `channel_refs_job` ON `channel_refs` (`job_id`);--> statement-breakpoint
CREATE INDEX `channel_refs_created` ON `channel_refs` (`created_at`);--> statement-breakpoint
CREATE TABLE `outbox` (
	`id` text PRIMARY KEY NOT NULL,
	`dedup_key` text NOT NULL,
	`channel` text NOT NULL,
	`target` text NOT NULL,
	`job_id` text,
	`event` text NOT NULL,
	`payload_json` text NOT NULL,
	`state` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`progress` integer DEFAULT 0 NOT NULL,
	`next_attempt_at` integer NOT NULL,
	`last_error` text,
	`created_at` integer NOT NULL,
	`sent_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `outbox_dedup_key_unique` ON `outbox` (`dedup_key`);--> statement-breakpoint
CREATE INDEX `outbox_state_next` ON `outbox` (`state`,`next_attempt_at`);--> statement-breakpoint
CREATE INDEX `outbox_created` ON `outbox` (`created_at`);--> statement-breakpoint
ALTER TABLE `jobs` ADD `route_hint` text;--> statement-breakpoint
ALTER TABLE `jobs` ADD `notify` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `jobs` ADD `notified_at` integer;--> statement-breakpoint
CREATE INDEX `jobs_notify_pending` ON `jobs` (`notify`,`notified_at`);