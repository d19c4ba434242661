//! From a report to a picture: `layout(&RunReport) -> Scene` (pure geometry), then SVG.
