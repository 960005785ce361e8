ALTER TABLE `jobs` ADD `memory_json` text;--> statement-breakpoint
ALTER TABLE `memory` ADD `kind` text DEFAULT 'note' NOT NULL;