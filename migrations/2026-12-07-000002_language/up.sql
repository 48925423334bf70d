-- Each analysis has a language (its readers' by default): composed sentences, reports and pages
-- are written in it unless a request asks for another.
ALTER TABLE analyses
    ADD COLUMN language text NOT NULL DEFAULT 'fr' CHECK (language IN ('fr', 'en'));
