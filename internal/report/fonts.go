package report

import _ "embed"

// The review's typeface: DejaVu Sans (Bitstream Vera licence, see
// fonts/LICENSE), embedded so that PDF and PNG output need no font on the
// machine and cover every character of the register's text.
var (
	//go:embed fonts/DejaVuSans.ttf
	fontRegular []byte
	//go:embed fonts/DejaVuSans-Bold.ttf
	fontBold []byte
	//go:embed fonts/DejaVuSans-Oblique.ttf
	fontItalic []byte
)
