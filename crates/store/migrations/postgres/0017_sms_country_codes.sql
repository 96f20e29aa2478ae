-- Country codes whose mobile numbers may receive SMS codes (issue 10 L1);
-- Sweden only unless the organisation file says otherwise.
ALTER TABLE organisations ADD COLUMN sms_country_codes TEXT NOT NULL DEFAULT '46';
