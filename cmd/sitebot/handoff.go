package main

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	_ "time/tzdata" // --business-hours zones on machines without a zoneinfo database

	"github.com/sitebot/sitebot/handoff"
	"github.com/sitebot/sitebot/server"
)

// handoffFlags are the settings of handoff delivery (serve, up).
func handoffFlags(fs *flag.FlagSet, c *Config) {
	fs.StringVar(&c.HandoffWebhook, "handoff-webhook", c.HandoffWebhook, "URL that receives each handoff as signed JSON (POST, retried until it answers 2xx)")
	fs.StringVar(&c.HandoffWebhookSecret, "handoff-webhook-secret", c.HandoffWebhookSecret, "secret that signs handoff webhooks (X-Sitebot-Signature: sha256=HMAC-SHA256 of the body)")
	fs.StringVar(&c.HandoffEmail, "handoff-email", c.HandoffEmail, "comma-separated addresses that receive each handoff by e-mail (needs --smtp-addr and --smtp-from)")
	fs.StringVar(&c.SMTPAddr, "smtp-addr", c.SMTPAddr, "SMTP server HOST:PORT for handoff e-mails (STARTTLS when offered)")
	fs.StringVar(&c.SMTPFrom, "smtp-from", c.SMTPFrom, "sender address of handoff e-mails")
	fs.StringVar(&c.SMTPUser, "smtp-user", c.SMTPUser, "SMTP user name (PLAIN auth; empty: no auth)")
	fs.StringVar(&c.SMTPPassword, "smtp-password", c.SMTPPassword, "SMTP password")
	fs.StringVar(&c.BusinessHours, "business-hours", c.BusinessHours, `when people answer handoffs, as days, a time range and an IANA time zone (e.g. "Mon-Fri 09:00-17:00 Europe/Helsinki"); outside them a handoff says when a reply can be expected and asks for the visitor's e-mail (empty: always open)`)
}

// handoffOptions turns the handoff flags into the delivery options.
func (c Config) handoffOptions(log *slog.Logger) handoff.Options {
	o := handoff.Options{Logger: log}
	if c.HandoffWebhook != "" {
		o.Webhook = &handoff.Webhook{URL: c.HandoffWebhook, Secret: c.HandoffWebhookSecret}
	}
	if c.HandoffEmail != "" || c.SMTPAddr != "" {
		o.Email = &handoff.Email{Addr: c.SMTPAddr, From: c.SMTPFrom, To: splitList(c.HandoffEmail), User: c.SMTPUser, Password: c.SMTPPassword}
	}
	return o
}

// validateHandoff checks the handoff flags, naming them.
func (c Config) validateHandoff() error {
	var errs []error
	if c.HandoffWebhook != "" && c.HandoffWebhookSecret == "" {
		errs = append(errs, errors.New("--handoff-webhook needs --handoff-webhook-secret (SITEBOT_HANDOFF_WEBHOOK_SECRET) to sign its requests"))
	}
	if (c.HandoffEmail != "") != (c.SMTPAddr != "") || (c.HandoffEmail != "" && c.SMTPFrom == "") {
		errs = append(errs, errors.New("handoff e-mails need --handoff-email, --smtp-addr and --smtp-from (SITEBOT_HANDOFF_EMAIL, SITEBOT_SMTP_ADDR, SITEBOT_SMTP_FROM)"))
	}
	if _, err := server.ParseBusinessHours(c.BusinessHours); err != nil {
		errs = append(errs, fmt.Errorf("--business-hours (SITEBOT_BUSINESS_HOURS): %w", err))
	}
	if len(errs) == 0 {
		if err := handoff.ValidateOptions(c.handoffOptions(nil)); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
