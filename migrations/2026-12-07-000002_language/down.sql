ALTER TABLE analyses DROP COLUMN language;
