CREATE TABLE `approvals` (
	`id` text PRIMARY KEY NOT NULL,
	`job_id` text NOT NULL,
	`attempt` integer NOT NULL,
	`task_id` text,
	`agent` text NOT NULL,
	`tool` text NOT NULL,
	`input_json` text NOT NULL,
	`state` text NOT NULL,
	`reason` text,
	`decided_by` text,
	`always` integer DEFAULT false NOT NULL,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`decided_at` integer
);
--> statement-breakpoint
CREATE INDEX `approvals_state_expires` ON `approvals` (`state`,`expires_at`);--> statement-breakpoint
CREATE INDEX `approvals_job` ON `approvals` (`job_id`);--> statement-breakpoint
CREATE INDEX `approvals_task` ON `approvals` (`task_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `task_allow_rules` (
	`id` text PRIMARY KEY NOT NULL,
	`task_id` text NOT NULL,
	`rule` text NOT NULL,
	`approval_id` text,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `task_allow_rules_task_rule` ON `task_allow_rules` (`task_id`,`rule`);--> statement-breakpoint
ALTER TABLE `jobs` ADD `denials_json` text;