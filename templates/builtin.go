package templates

import "errors"

// Names of the built-in templates.
const (
	BasicCalculator = "basic_calculator"
	WebScraper      = "web_scraper_template"
	FileHandler     = "file_handler_template"
	DataProcessor   = "data_processor"
	APIIntegration  = "api_integration"
)

// ErrNameTaken is returned when a configured template reuses a built-in name.
var ErrNameTaken = errors.New("name is taken by a built-in template")

// ErrUnknownTemplate is returned by Serve and NewServer for a name that is
// not a built-in template.
var ErrUnknownTemplate = errors.New("unknown built-in template")

// Builtins lists the five built-in templates with their capabilities.
func Builtins() []Template {
	return []Template{
		{Name: BasicCalculator, Builtin: true, Capabilities: []string{"calculator"},
			Description: "Arithmetic on numbers: add, subtract, multiply, divide."},
		{Name: WebScraper, Builtin: true, Capabilities: []string{"web_scraping"},
			Description: "Fetch a URL over HTTP(S) and extract text with CSS selectors."},
		{Name: FileHandler, Builtin: true, Capabilities: []string{"file_operations"},
			Description: "Read, write and list files confined to one base directory."},
		{Name: DataProcessor, Builtin: true, Capabilities: []string{"data_analysis"},
			Description: "Parse JSON, filter records and summarise fields with numeric statistics."},
		{Name: APIIntegration, Builtin: true, Capabilities: []string{"api_client"},
			Description: "Make HTTP requests to APIs and parse JSON responses."},
	}
}
