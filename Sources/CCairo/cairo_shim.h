/* Brings cairo's drawing API and its SVG and PNG output (cairo_svg_surface_create,
 * cairo_surface_write_to_png) into Swift, for the run plots (Sources/AutoGLM/Plot). */
#include <cairo.h>
#include <cairo-svg.h>
