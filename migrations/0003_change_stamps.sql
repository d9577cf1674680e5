ALTER TABLE "feature_flags" ADD COLUMN "change_stamp" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX "feature_flags_project_stamp_idx" ON "feature_flags" USING btree ("project_id","change_stamp","id");--> statement-breakpoint
-- Every insert, and every update of a column a snapshot holds, takes the next project revision as
-- the row's change stamp. The update keeps the project row locked until the transaction ends, so
-- stamps are committed in stamp order per project: a reader that has seen revision R has seen every
-- row stamped at or below R. last_called_at and has_enriched_analytics (written by capture) are not
-- in the list: they are not part of a snapshot.
CREATE FUNCTION "flaghost_stamp_feature_flag"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE "projects" SET "revision" = "revision" + 1 WHERE "id" = NEW."project_id" RETURNING "revision" INTO NEW."change_stamp";
  RETURN NEW;
END
$$;--> statement-breakpoint
CREATE TRIGGER "feature_flags_change_stamp" BEFORE INSERT OR UPDATE OF
  "id", "project_id", "key", "name", "filters", "rollout_percentage", "deleted", "active", "created_by_id", "created_at", "updated_at",
  "version", "last_modified_by_id", "ensure_experience_continuity", "rollback_conditions", "performed_rollback", "tags",
  "evaluation_tags", "is_remote_configuration", "has_encrypted_payloads", "evaluation_runtime", "bucketing_identifier",
  "creation_context", "usage_dashboard_id"
  ON "feature_flags" FOR EACH ROW EXECUTE FUNCTION "flaghost_stamp_feature_flag"();
