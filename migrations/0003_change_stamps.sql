ALTER TABLE "feature_flags" ADD COLUMN "change_stamp" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "projects" ADD COLUMN "flag_removals" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX "feature_flags_project_stamp_idx" ON "feature_flags" USING btree ("project_id","change_stamp","id");--> statement-breakpoint
-- Every insert, and every update of a column a snapshot holds, takes the next project revision as
-- the row's change stamp. The update keeps the project row locked until the transaction ends, so
-- stamps are committed in stamp order per project: a reader that has read revision R has seen, or
-- can see, every row stamped at or below R. last_called_at and has_enriched_analytics (written by
-- capture) are not in the list: they are not part of a snapshot. A row moved to another project
-- counts as removed from its old one.
CREATE FUNCTION "flaghost_stamp_feature_flag"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND OLD."project_id" IS DISTINCT FROM NEW."project_id" THEN
    UPDATE "projects" SET "revision" = "revision" + 1, "flag_removals" = "flag_removals" + 1 WHERE "id" = OLD."project_id";
  END IF;
  UPDATE "projects" SET "revision" = "revision" + 1 WHERE "id" = NEW."project_id" RETURNING "revision" INTO NEW."change_stamp";
  RETURN NEW;
END
$$;--> statement-breakpoint
CREATE TRIGGER "feature_flags_change_stamp" BEFORE INSERT OR UPDATE OF
  "id", "project_id", "key", "name", "filters", "rollout_percentage", "deleted", "active", "created_by_id", "created_at", "updated_at",
  "version", "last_modified_by_id", "ensure_experience_continuity", "rollback_conditions", "performed_rollback", "tags",
  "evaluation_tags", "is_remote_configuration", "has_encrypted_payloads", "evaluation_runtime", "bucketing_identifier",
  "creation_context", "usage_dashboard_id"
  ON "feature_flags" FOR EACH ROW EXECUTE FUNCTION "flaghost_stamp_feature_flag"();--> statement-breakpoint
-- A deleted row leaves no stamp behind: the project counts it, and a snapshot that sees the count
-- change reads every flag again.
CREATE FUNCTION "flaghost_count_flag_removal"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE "projects" SET "revision" = "revision" + 1, "flag_removals" = "flag_removals" + 1 WHERE "id" = OLD."project_id";
  RETURN NULL;
END
$$;--> statement-breakpoint
CREATE TRIGGER "feature_flags_removal" AFTER DELETE ON "feature_flags" FOR EACH ROW EXECUTE FUNCTION "flaghost_count_flag_removal"();
