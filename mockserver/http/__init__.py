"""The aiohttp shell: routes, the debug routes and page, body reading, faults on the socket, a site runner."""
