CREATE TABLE "key_settings" (
	"id" integer PRIMARY KEY NOT NULL,
	"settings" text NOT NULL,
	"updated_at" timestamp (3) with time zone NOT NULL
);
