CREATE TABLE `schedule_runs` (
	`id` text PRIMARY KEY NOT NULL,
	`schedule_id` text NOT NULL,
	`slot_at` integer NOT NULL,
	`kind` text NOT NULL,
	`fired_at` integer NOT NULL,
	`job_id` text NOT NULL,
	`result` text,
	`ended_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `schedule_runs_slot` ON `schedule_runs` (`schedule_id`,`slot_at`) WHERE kind <> 'now';--> statement-breakpoint
CREATE INDEX `schedule_runs_open` ON `schedule_runs` (`result`,`schedule_id`);--> statement-breakpoint
CREATE INDEX `schedule_runs_job` ON `schedule_runs` (`job_id`);--> statement-breakpoint
CREATE TABLE `schedules` (
	`id` text PRIMARY KEY NOT NULL,
	`kind` text NOT NULL,
	`expr` text NOT NULL,
	`tz` text,
	`text` text NOT NULL,
	`task_id` text,
	`lane` text NOT NULL,
	`user_id` text NOT NULL,
	`state` text NOT NULL,
	`paused_reason` text,
	`next_run_at` integer,
	`last_fired_at` integer,
	`last_job_id` text,
	`last_result` text,
	`consecutive_failures` integer DEFAULT 0 NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `schedules_state_next` ON `schedules` (`state`,`next_run_at`);--> statement-breakpoint
ALTER TABLE `memory` ADD `pinned` integer DEFAULT false NOT NULL;