"""The evidence report an auditor keeps: markdown and HTML renderers and the SVG timeline."""
