// App placeholder
