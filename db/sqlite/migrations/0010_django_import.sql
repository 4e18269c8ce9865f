CREATE TABLE `django_refresh_tokens` (
	`jti` text PRIMARY KEY NOT NULL,
	`used_at` integer NOT NULL,
	`expires_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `django_refresh_tokens_expires_at_idx` ON `django_refresh_tokens` (`expires_at`);--> statement-breakpoint
ALTER TABLE `users` ADD `legacy_id` integer;--> statement-breakpoint
CREATE UNIQUE INDEX `users_legacy_id_unique` ON `users` (`legacy_id`);